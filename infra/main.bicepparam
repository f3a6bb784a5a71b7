using './main.bicep'

// Example values; override per environment (az deployment group create
// --parameters infra/main.bicepparam --parameters dataverseUrl=...).
param baseName = 'dataexport'
param dataverseUrl = 'https://contoso.crm.dynamics.com'
param pollSchedule = '0 */1 * * * *'
param schemaSchedule = '*/30 * * * * *'
param recordsQueueName = 'records'
param profilesTableName = 'profiles'
param entitiesTableName = 'entitystate'
param metricsTableName = 'metrics'
param failedContainerPrefix = 'failed-'
param failedRecordRetentionDays = 30
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param storageAuth = 'key'
param lockDuration = 'PT5M'
param maxDeliveryCount = 10
param secretsOfficerPrincipalId = ''
// The Entra ID app registration of the sign-in (see README.md).
param authClientId = '00000000-0000-0000-0000-000000000000'
