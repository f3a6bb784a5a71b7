SET XACT_ABORT ON;
BEGIN TRANSACTION;
IF OBJECT_ID(N'[dbo].[crm_lead_labels]', N'V') IS NOT NULL
    DROP VIEW [dbo].[crm_lead_labels];
DROP PROCEDURE IF EXISTS [dbo].[crm_lead_Upsert];
DROP PROCEDURE IF EXISTS [dbo].[crm_lead_Delete];
DROP TABLE IF EXISTS [dbo].[crm_lead];
DROP TYPE IF EXISTS [dbo].[crm_leadType];
DROP TYPE IF EXISTS [dbo].[crm_leadIdType];
IF OBJECT_ID(N'[dbo].[crm_dataexport_tombstone]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_dataexport_tombstone] WHERE [TableName] = N'crm_lead';
IF OBJECT_ID(N'[dbo].[crm_dataexport_keys]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_dataexport_keys] WHERE [TableName] = N'crm_lead';
IF OBJECT_ID(N'[dbo].[crm_OptionSetMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_OptionSetMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[crm_StateMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_StateMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[crm_StatusMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_StatusMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[crm_TargetMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_TargetMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[crm_AttributeMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_AttributeMetadata] WHERE [EntityName] = N'lead';
COMMIT TRANSACTION;
GO
