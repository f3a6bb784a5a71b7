SET XACT_ABORT ON;
BEGIN TRANSACTION;
IF OBJECT_ID(N'[sales].[crm_account_labels]', N'V') IS NOT NULL
    DROP VIEW [sales].[crm_account_labels];
DROP PROCEDURE IF EXISTS [sales].[crm_account_Upsert];
DROP PROCEDURE IF EXISTS [sales].[crm_account_Delete];
DROP TABLE IF EXISTS [sales].[crm_account];
DROP TYPE IF EXISTS [sales].[crm_accountType];
DROP TYPE IF EXISTS [sales].[crm_accountIdType];
IF OBJECT_ID(N'[sales].[crm_dataexport_tombstone]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_dataexport_tombstone] WHERE [TableName] = N'crm_account';
IF OBJECT_ID(N'[sales].[crm_dataexport_keys]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_dataexport_keys] WHERE [TableName] = N'crm_account';
IF OBJECT_ID(N'[sales].[crm_OptionSetMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_OptionSetMetadata] WHERE [EntityName] = N'account';
IF OBJECT_ID(N'[sales].[crm_StateMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_StateMetadata] WHERE [EntityName] = N'account';
IF OBJECT_ID(N'[sales].[crm_StatusMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_StatusMetadata] WHERE [EntityName] = N'account';
IF OBJECT_ID(N'[sales].[crm_TargetMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_TargetMetadata] WHERE [EntityName] = N'account';
IF OBJECT_ID(N'[sales].[crm_AttributeMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_AttributeMetadata] WHERE [EntityName] = N'account';
IF OBJECT_ID(N'[sales].[crm_contact_labels]', N'V') IS NOT NULL
    DROP VIEW [sales].[crm_contact_labels];
DROP PROCEDURE IF EXISTS [sales].[crm_contact_Upsert];
DROP PROCEDURE IF EXISTS [sales].[crm_contact_Delete];
DROP TABLE IF EXISTS [sales].[crm_contact];
DROP TYPE IF EXISTS [sales].[crm_contactType];
DROP TYPE IF EXISTS [sales].[crm_contactIdType];
IF OBJECT_ID(N'[sales].[crm_dataexport_tombstone]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_dataexport_tombstone] WHERE [TableName] = N'crm_contact';
IF OBJECT_ID(N'[sales].[crm_dataexport_keys]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_dataexport_keys] WHERE [TableName] = N'crm_contact';
IF OBJECT_ID(N'[sales].[crm_OptionSetMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_OptionSetMetadata] WHERE [EntityName] = N'contact';
IF OBJECT_ID(N'[sales].[crm_StateMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_StateMetadata] WHERE [EntityName] = N'contact';
IF OBJECT_ID(N'[sales].[crm_StatusMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_StatusMetadata] WHERE [EntityName] = N'contact';
IF OBJECT_ID(N'[sales].[crm_TargetMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_TargetMetadata] WHERE [EntityName] = N'contact';
IF OBJECT_ID(N'[sales].[crm_AttributeMetadata]', N'U') IS NOT NULL
    DELETE FROM [sales].[crm_AttributeMetadata] WHERE [EntityName] = N'contact';
DROP TABLE IF EXISTS [sales].[crm_GlobalOptionSetMetadata];
DROP TABLE IF EXISTS [sales].[crm_OptionSetMetadata];
DROP TABLE IF EXISTS [sales].[crm_StateMetadata];
DROP TABLE IF EXISTS [sales].[crm_StatusMetadata];
DROP TABLE IF EXISTS [sales].[crm_TargetMetadata];
DROP TABLE IF EXISTS [sales].[crm_AttributeMetadata];
DROP TABLE IF EXISTS [sales].[crm_DeleteLog];
DROP TABLE IF EXISTS [sales].[crm_dataexport_tombstone];
DROP TABLE IF EXISTS [sales].[crm_dataexport_keys];
COMMIT TRANSACTION;
GO
