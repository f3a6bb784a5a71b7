// dataexport: the Go custom-handler function app and what it needs.
// Resource-group scope. Never compiled or deployed where it was written (no
// Bicep CLI there); see README.md beside this file before the first deploy.

targetScope = 'resourceGroup'

@description('Azure region for every resource.')
param location string = resourceGroup().location

@description('Short name used in resource names (lowercase letters and digits).')
@minLength(3)
@maxLength(11)
param baseName string = 'dataexport'

@description('Dataverse organization URL, e.g. https://contoso.crm.dynamics.com')
param dataverseUrl string

@description('NCRONTAB schedule of the ChangePoller timer (six fields, with seconds).')
param pollSchedule string = '0 */1 * * * *'

@description('NCRONTAB schedule of the SchemaChange timer: how soon a new entity gets its table and a metadata change reaches its table (the poller waits for it meanwhile).')
param schemaSchedule string = '*/30 * * * * *'

@description('Service Bus queue the poller sends batches to and the RecordApplier reads.')
param recordsQueueName string = 'records'

@description('Table storage tables for profiles, per-entity state and the per-minute activity the web UI draws.')
param profilesTableName string = 'profiles'
param entitiesTableName string = 'entitystate'
param metricsTableName string = 'metrics'

@description('Prefix of the per-profile failed-record containers (internal/failures).')
param failedContainerPrefix string = 'failed-'

@description('Days after which failed-record blobs are deleted (DES kept 30).')
@minValue(1)
param failedRecordRetentionDays int = 30

@description('Flex Consumption scale limits.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('How the host and the Go code reach storage: "key" puts a connection string in AzureWebJobsStorage; "identity" uses the managed identity only (AzureWebJobsStorage__accountName + __credential, read by internal/app ResolveStorage) and turns shared-key access off.')
@allowed(['key', 'identity'])
param storageAuth string = 'key'

@description('Service Bus queue settings: lock long enough for one batch, redeliveries before dead-lettering.')
param lockDuration string = 'PT5M'
@minValue(1)
param maxDeliveryCount int = 10
@description('Days a records message may wait in the Service Bus queue before it expires (dead-lettered). Page units in Blob storage are kept one day longer as a backstop; the applier deletes each as soon as its page is applied.')
@minValue(1)
param messageTimeToLiveDays int = 14

@description('Object id of a user or group that may set the SQL connection-string secret (Key Vault Secrets Officer). Empty: none.')
param secretsOfficerPrincipalId string = ''

@description('Client (application) id of the Microsoft Entra ID app registration that signs administrators in to the web UI (App Service Authentication; the management API takes function keys). Create it before the first deployment: see README.md.')
param authClientId string

@description('Tenant of that app registration (default: the tenant of the subscription).')
param authTenantId string = subscription().tenantId

var suffix = uniqueString(resourceGroup().id, baseName)
var storageName = take('st${baseName}${suffix}', 24)
var appName = 'func-${baseName}-${suffix}'
var planName = 'plan-${baseName}-${suffix}'
var serviceBusName = 'sb-${baseName}-${suffix}'
var vaultName = take('kv-${baseName}-${suffix}', 24)
var deploymentContainerName = 'app-package-${take(suffix, 8)}'

// Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---- Monitoring ----

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${baseName}-${suffix}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${baseName}-${suffix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry is sent with the app's identity (Monitoring Metrics Publisher).
    DisableLocalAuth: true
  }
}

// ---- Storage: host, Flex deployment package, state tables, failed records ----

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: storageAuth == 'key'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

// Failed-record containers are created per profile at run time
// (<prefix><profile>-<hash>), so a prefixMatch (which must start with a whole
// container name) cannot cover them. internal/failures tags every blob it
// writes with dataexport=failure instead, and this rule ages those out as DES
// did. Blob index tags need a non-HNS account (as here).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-failed-records'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              blobIndexMatch: [
                { name: 'dataexport', op: '==', value: 'failure' }
              ]
            }
            actions: {
              baseBlob: {
                delete: { daysAfterModificationGreaterThan: failedRecordRetentionDays }
              }
            }
          }
        }
        {
          // Page units (internal/claims): replicated rows, so kept no longer
          // than a message can name them. The applier deletes each one as
          // soon as its page is applied or kept as failed records; this
          // backstop removes what a crash left (a unit stored, then the
          // poller died before enqueueing its reference), one day after the
          // longest a message can wait (messageTimeToLiveDays).
          name: 'delete-claims'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['dataexport-claims/']
            }
            actions: {
              baseBlob: {
                delete: { daysAfterModificationGreaterThan: messageTimeToLiveDays + 1 }
              }
            }
          }
        }
      ]
    }
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource profilesTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: profilesTableName
}

resource entitiesTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: entitiesTableName
}

resource metricsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: metricsTableName
}

// ---- Service Bus: poller -> applier ----

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: serviceBusName
  location: location
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource recordsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: serviceBus
  name: recordsQueueName
  properties: {
    lockDuration: lockDuration
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P${messageTimeToLiveDays}D'
    // The sender sets MessageId to a hash of the body, so a batch re-sent
    // after a poller crash is dropped here. Cannot be changed after creation.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    requiresSession: false
    maxSizeInMegabytes: 1024
  }
}

// ---- Key Vault: destination connection strings ----
// A profile names its destination's connection string by Key Vault secret
// URL (keyVaultSecretUrl, https://<vault>.vault.azure.net/secrets/<name>);
// internal/secrets reads it with the app's identity (DATAVERSE_AUTH =
// managedidentity below), which vaultSecretsUser makes a Key Vault Secrets
// User here. No app setting names the vault: the URL is in the profile, as
// the DES "Key Vault URL" was. Set the secret out of band (az keyvault
// secret set) so that it stays out of deployment history.

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

// ---- Function app (Flex Consumption, custom handler) ----

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

// Storage connection, in the two forms internal/app (ResolveStorage) and the
// Functions host both read. One entry per line: infra_test.go parses these
// lists and checks them against what the app requires.
var storageKeySettings = [
  { name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}' }
]
// Identity: https://<account>.{table,queue,blob}.core.windows.net with the
// system-assigned identity. For a user-assigned one, add
// AzureWebJobsStorage__clientId (and give that identity the roles below).
var storageIdentitySettings = [
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
]

// Flex Consumption: no FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION
// or WEBSITE_CONTENT* settings; the runtime is set in functionAppConfig.
// Every name here is read by the Go code (internal/app SettingNames), by a
// function.json, or by the host; infra_test.go checks that.
var appSettings = concat(storageAuth == 'key' ? storageKeySettings : storageIdentitySettings, [
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
  // The poller sends to Service Bus; the RecordApplier (serviceBusTrigger)
  // function reads it. Both use the ServiceBusConnection identity settings.
  { name: 'QUEUE_TRANSPORT', value: 'servicebus' }
  { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: '${serviceBus.name}.servicebus.windows.net' }
  { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
  { name: 'RECORDS_QUEUE', value: recordsQueue.name }
  { name: 'POLL_SCHEDULE', value: pollSchedule }
  { name: 'SCHEMA_SCHEDULE', value: schemaSchedule }
  { name: 'STATE_PROFILES_TABLE', value: profilesTable.name }
  { name: 'STATE_ENTITIES_TABLE', value: entitiesTable.name }
  { name: 'STATE_METRICS_TABLE', value: metricsTable.name }
  { name: 'FAILURES_CONTAINER_PREFIX', value: failedContainerPrefix }
  // The lifecycle rule above ages failed records out; the app prunes by
  // the same number of days too (hourly, on the poller's timer).
  { name: 'FAILURES_RETENTION_DAYS', value: string(failedRecordRetentionDays) }
  { name: 'DATAVERSE_URL', value: dataverseUrl }
  // The app's managed identity is the Dataverse application user, and
  // reads the destination connection strings from Key Vault.
  { name: 'DATAVERSE_AUTH', value: 'managedidentity' }
  // azidentity: DefaultAzureCredential (DATAVERSE_AUTH=default) skips the
  // developer credentials in Azure.
  { name: 'AZURE_TOKEN_CREDENTIALS', value: 'prod' }
  // QUEUE_TRANSPORT=servicebus: the Storage-queue applier (queueTrigger) is
  // for Azurite and the standalone host only.
  { name: 'AzureWebJobs.RecordApplierQueue.Disabled', value: 'true' }
])

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: appSettings
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'custom', version: '1.0' }
    }
  }
}

// ---- Sign-in: App Service Authentication (Microsoft Entra ID) ----
// Two faces, two guards. The management API's functions (/api/profiles...,
// /api/source/entities, /api/openapi.json, /api/me) are authLevel function:
// the host's function keys guard them (scripts, the CLI over HTTP,
// automation). The web UI's function (/api/ui/{*path}: its files, and its
// calls to the same routes under /api/ui/api/) is authLevel anonymous, a
// browser holding no function key: App Service Authentication signs the
// administrator in with Entra ID and names them in X-MS-CLIENT-PRINCIPAL*
// (a caller cannot set those itself), the platform sets
// WEBSITE_AUTH_ENABLED=True, and the handler serves the UI only to a named
// principal, and only while WEBSITE_AUTH_ENABLED is True (handlers.Front;
// the template never sets it). AllowAnonymous, not RedirectToLoginPage: a
// script's key-authenticated call carries no sign-in and must not be sent
// to a login page; the UI's function refuses (or redirects a browser to
// /.auth/login/aad) on its own. See README.md, Sign-in.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
      redirectToProvider: 'azureactivedirectory'
    }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: { enabled: false }
    }
  }
}

// ---- Role assignments for the app's identity ----

// Blob Data Owner: host locks (timer singleton), Flex deployment package,
// failed records. Table: state. Queue: the Storage-queue trigger and its
// poison queue, if used.
var storageRoleIds = [
  roles.storageBlobDataOwner
  roles.storageTableDataContributor
  roles.storageQueueDataContributor
]

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoleIds: {
    name: guid(storage.id, app.id, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Receiver: the RecordApplier trigger. Sender: the poller's batches.
var serviceBusRoleIds = [
  roles.serviceBusDataReceiver
  roles.serviceBusDataSender
]

resource serviceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in serviceBusRoleIds: {
    name: guid(serviceBus.id, app.id, roleId)
    scope: serviceBus
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, app.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(vault.id, secretsOfficerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: secretsOfficerPrincipalId
  }
}

resource insightsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = app.name
output functionAppHostName string = app.properties.defaultHostName
output storageAccountName string = storage.name
output serviceBusNamespace string = '${serviceBus.name}.servicebus.windows.net'
output keyVaultUri string = vault.properties.vaultUri
output deploymentContainer string = deploymentContainer.name
output webUIUrl string = 'https://${app.properties.defaultHostName}/api/ui/'
output signInRedirectUri string = 'https://${app.properties.defaultHostName}/.auth/login/aad/callback'
