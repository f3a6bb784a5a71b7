IF SCHEMA_ID(N'dbo') IS NULL
    EXEC(N'CREATE SCHEMA [dbo]');
GO
IF OBJECT_ID(N'[dbo].[crm_dataexport_tombstone]', N'U') IS NULL
CREATE TABLE [dbo].[crm_dataexport_tombstone] (
    [TableName] nvarchar(128) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [VersionNumber] bigint NOT NULL,
    [DeletedOn] datetime NOT NULL,
    CONSTRAINT [EPK[dbo]].[crm_dataexport_tombstone]]] PRIMARY KEY CLUSTERED ([TableName], [Id])
);
GO
IF OBJECT_ID(N'[dbo].[crm_dataexport_keys]', N'U') IS NULL
CREATE TABLE [dbo].[crm_dataexport_keys] (
    [TableName] nvarchar(128) NOT NULL,
    [ScanId] nvarchar(32) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [StagedOn] datetime NOT NULL,
    CONSTRAINT [EPK[dbo]].[crm_dataexport_keys]]] PRIMARY KEY CLUSTERED ([TableName], [ScanId], [Id])
);
GO
IF OBJECT_ID(N'[dbo].[crm_DeleteLog]', N'U') IS NULL
CREATE TABLE [dbo].[crm_DeleteLog] (
    [Id] uniqueidentifier NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [RecordId] nvarchar(64) NULL,
    [SinkDeleteTime] datetime NULL,
    [VersionNumber] bigint NULL,
    CONSTRAINT [EPK[dbo]].[crm_DeleteLog]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
IF OBJECT_ID(N'[dbo].[crm_accountleads]', N'U') IS NULL
CREATE TABLE [dbo].[crm_accountleads] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [versionnumber] bigint NULL,
    [accountleadid] uniqueidentifier NULL,
    [accountid] uniqueidentifier NULL,
    [leadid] uniqueidentifier NULL,
    CONSTRAINT [EPK[dbo]].[crm_accountleads]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
IF COL_LENGTH(N'[dbo].[crm_accountleads]', N'accountleadid') IS NULL
    ALTER TABLE [dbo].[crm_accountleads] ADD [accountleadid] uniqueidentifier NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_accountleads]', N'accountid') IS NULL
    ALTER TABLE [dbo].[crm_accountleads] ADD [accountid] uniqueidentifier NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_accountleads]', N'leadid') IS NULL
    ALTER TABLE [dbo].[crm_accountleads] ADD [leadid] uniqueidentifier NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.types WHERE [is_table_type] = 1 AND [schema_id] = SCHEMA_ID(N'dbo') AND [name] = N'crm_accountleadsIdType')
    CREATE TYPE [dbo].[crm_accountleadsIdType] AS TABLE (
        [Id] uniqueidentifier NOT NULL,
        [VersionNumber] bigint NOT NULL
    );
GO
DROP PROCEDURE IF EXISTS [dbo].[crm_accountleads_Upsert];
GO
DROP PROCEDURE IF EXISTS [dbo].[crm_accountleads_Delete];
GO
DROP TYPE IF EXISTS [dbo].[crm_accountleadsType];
GO
CREATE TYPE [dbo].[crm_accountleadsType] AS TABLE (
    [Id] uniqueidentifier NOT NULL,
    [accountleadid] uniqueidentifier NULL,
    [accountid] uniqueidentifier NULL,
    [leadid] uniqueidentifier NULL,
    [versionnumber] bigint NOT NULL
);
GO
CREATE OR ALTER PROCEDURE [dbo].[crm_accountleads_Upsert]
    @rows [dbo].[crm_accountleadsType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    WITH [ranked] AS (
        SELECT [Id], [versionnumber], [accountleadid], [accountid], [leadid],
            ROW_NUMBER() OVER (PARTITION BY [Id] ORDER BY [versionnumber] DESC) AS [rn]
        FROM @rows
    )
    MERGE [dbo].[crm_accountleads] WITH (HOLDLOCK) AS [t]
    USING (
        SELECT * FROM [ranked] AS [r]
        WHERE [r].[rn] = 1
          AND NOT EXISTS (SELECT 1 FROM [dbo].[crm_dataexport_tombstone] AS [d] WITH (HOLDLOCK)
              WHERE [d].[TableName] = N'crm_accountleads' AND [d].[Id] = [r].[Id] AND [d].[VersionNumber] >= [r].[versionnumber])
    ) AS [s]
    ON [t].[Id] = [s].[Id]
    WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] < [s].[versionnumber]) THEN UPDATE SET
        [t].[SinkModifiedOn] = GETUTCDATE(),
        [t].[versionnumber] = [s].[versionnumber],
        [t].[accountleadid] = [s].[accountleadid],
        [t].[accountid] = [s].[accountid],
        [t].[leadid] = [s].[leadid]
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [accountleadid], [accountid], [leadid])
        VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[accountleadid], [s].[accountid], [s].[leadid]);
    SELECT @@ROWCOUNT AS [Upserted];
END;
GO
CREATE OR ALTER PROCEDURE [dbo].[crm_accountleads_Delete]
    @ids [dbo].[crm_accountleadsIdType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);
    DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);
    INSERT INTO @del ([Id], [VersionNumber])
        SELECT [Id], MAX([VersionNumber]) FROM @ids GROUP BY [Id];
    DELETE [t] OUTPUT DELETED.[Id] INTO @hit ([Id])
        FROM [dbo].[crm_accountleads] AS [t] WITH (HOLDLOCK)
        INNER JOIN @del AS [d] ON [d].[Id] = [t].[Id]
        WHERE [t].[versionnumber] IS NULL OR [t].[versionnumber] <= [d].[VersionNumber];
    MERGE [dbo].[crm_dataexport_tombstone] WITH (HOLDLOCK) AS [tb]
    USING @del AS [d] ON [tb].[TableName] = N'crm_accountleads' AND [tb].[Id] = [d].[Id]
    WHEN MATCHED AND [tb].[VersionNumber] < [d].[VersionNumber] THEN
        UPDATE SET [tb].[VersionNumber] = [d].[VersionNumber], [tb].[DeletedOn] = GETUTCDATE()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'crm_accountleads', [d].[Id], [d].[VersionNumber], GETUTCDATE())
    OUTPUT INSERTED.[Id] INTO @hit ([Id]);
    INSERT INTO [dbo].[crm_DeleteLog] ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])
        SELECT NEWID(), N'accountleads', LOWER(CONVERT(nvarchar(36), [d].[Id])), GETUTCDATE(), [d].[VersionNumber]
        FROM @del AS [d]
        WHERE EXISTS (SELECT 1 FROM @hit AS [h] WHERE [h].[Id] = [d].[Id])
          AND NOT EXISTS (SELECT 1 FROM [dbo].[crm_accountleads] AS [t] WHERE [t].[Id] = [d].[Id]);
    SELECT COUNT(DISTINCT [Id]) AS [Deleted] FROM @hit;
END;
GO
