SET XACT_ABORT ON;
BEGIN TRANSACTION;
IF OBJECT_ID(N'[dbo].[lead_labels]', N'V') IS NOT NULL
    DROP VIEW [dbo].[lead_labels];
DROP PROCEDURE IF EXISTS [dbo].[lead_Upsert];
DROP PROCEDURE IF EXISTS [dbo].[lead_Delete];
DROP TABLE IF EXISTS [dbo].[lead];
DROP TYPE IF EXISTS [dbo].[leadType];
DROP TYPE IF EXISTS [dbo].[leadIdType];
IF OBJECT_ID(N'[dbo].[dataexport_tombstone]', N'U') IS NOT NULL
    DELETE FROM [dbo].[dataexport_tombstone] WHERE [TableName] = N'lead';
IF OBJECT_ID(N'[dbo].[dataexport_keys]', N'U') IS NOT NULL
    DELETE FROM [dbo].[dataexport_keys] WHERE [TableName] = N'lead';
IF OBJECT_ID(N'[dbo].[OptionSetMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[OptionSetMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[StateMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[StateMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[StatusMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[StatusMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[TargetMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[TargetMetadata] WHERE [EntityName] = N'lead';
IF OBJECT_ID(N'[dbo].[AttributeMetadata]', N'U') IS NOT NULL
    DELETE FROM [dbo].[AttributeMetadata] WHERE [EntityName] = N'lead';
COMMIT TRANSACTION;
GO
