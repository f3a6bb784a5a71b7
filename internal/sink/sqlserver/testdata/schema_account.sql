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
IF OBJECT_ID(N'[dbo].[crm_account]', N'U') IS NULL
CREATE TABLE [dbo].[crm_account] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [versionnumber] bigint NULL,
    [accountid] uniqueidentifier NULL,
    [name] nvarchar(160) NULL,
    [description] nvarchar(max) NULL,
    [numberofemployees] int NULL,
    [entityimage_timestamp] bigint NULL,
    [revenue] decimal(38,2) NULL,
    [exchangerate] decimal(38,10) NULL,
    [address1_latitude] float NULL,
    [creditonhold] bit NULL,
    [createdon] datetime NULL,
    [lastonholdtime] datetime NULL,
    [ownerid] uniqueidentifier NULL,
    [ownerid_entitytype] nvarchar(128) NULL,
    [statecode] int NULL,
    CONSTRAINT [EPK[dbo]].[crm_account]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'accountid') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [accountid] uniqueidentifier NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'name') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [name] nvarchar(160) NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'description') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [description] nvarchar(max) NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'numberofemployees') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [numberofemployees] int NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'entityimage_timestamp') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [entityimage_timestamp] bigint NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'revenue') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [revenue] decimal(38,2) NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'exchangerate') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [exchangerate] decimal(38,10) NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'address1_latitude') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [address1_latitude] float NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'creditonhold') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [creditonhold] bit NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'createdon') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [createdon] datetime NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'lastonholdtime') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [lastonholdtime] datetime NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'ownerid') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [ownerid] uniqueidentifier NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'ownerid_entitytype') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [ownerid_entitytype] nvarchar(128) NULL;
GO
IF COL_LENGTH(N'[dbo].[crm_account]', N'statecode') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [statecode] int NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'name' AND [max_length] <> -1 AND [max_length] < 320)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [name] nvarchar(160) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'description' AND [max_length] <> -1)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [description] nvarchar(max) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'entityimage_timestamp' AND [system_type_id] IN (48, 52, 56))
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [entityimage_timestamp] bigint NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'revenue' AND [system_type_id] IN (106, 108) AND [scale] < 2)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [revenue] decimal(38,2) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'exchangerate' AND [system_type_id] IN (106, 108) AND [scale] < 10)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [exchangerate] decimal(38,10) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'ownerid_entitytype' AND [max_length] <> -1 AND [max_length] < 256)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [ownerid_entitytype] nvarchar(128) NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.types WHERE [is_table_type] = 1 AND [schema_id] = SCHEMA_ID(N'dbo') AND [name] = N'crm_accountIdType')
    CREATE TYPE [dbo].[crm_accountIdType] AS TABLE (
        [Id] uniqueidentifier NOT NULL,
        [VersionNumber] bigint NOT NULL
    );
GO
DROP PROCEDURE IF EXISTS [dbo].[crm_account_Upsert];
GO
DROP PROCEDURE IF EXISTS [dbo].[crm_account_Delete];
GO
DROP TYPE IF EXISTS [dbo].[crm_accountType];
GO
CREATE TYPE [dbo].[crm_accountType] AS TABLE (
    [Id] uniqueidentifier NOT NULL,
    [accountid] uniqueidentifier NULL,
    [name] nvarchar(160) NULL,
    [description] nvarchar(max) NULL,
    [numberofemployees] int NULL,
    [entityimage_timestamp] bigint NULL,
    [revenue] decimal(38,2) NULL,
    [exchangerate] decimal(38,10) NULL,
    [address1_latitude] float NULL,
    [creditonhold] bit NULL,
    [createdon] datetime NULL,
    [lastonholdtime] datetime NULL,
    [ownerid] uniqueidentifier NULL,
    [ownerid_entitytype] nvarchar(128) NULL,
    [statecode] int NULL,
    [versionnumber] bigint NOT NULL
);
GO
CREATE OR ALTER PROCEDURE [dbo].[crm_account_Upsert]
    @rows [dbo].[crm_accountType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    WITH [ranked] AS (
        SELECT [Id], [versionnumber], [accountid], [name], [description], [numberofemployees], [entityimage_timestamp], [revenue], [exchangerate], [address1_latitude], [creditonhold], [createdon], [lastonholdtime], [ownerid], [ownerid_entitytype], [statecode],
            ROW_NUMBER() OVER (PARTITION BY [Id] ORDER BY [versionnumber] DESC) AS [rn]
        FROM @rows
    )
    MERGE [dbo].[crm_account] WITH (HOLDLOCK) AS [t]
    USING (
        SELECT * FROM [ranked] AS [r]
        WHERE [r].[rn] = 1
          AND NOT EXISTS (SELECT 1 FROM [dbo].[crm_dataexport_tombstone] AS [d] WITH (HOLDLOCK)
              WHERE [d].[TableName] = N'crm_account' AND [d].[Id] = [r].[Id] AND [d].[VersionNumber] >= [r].[versionnumber])
    ) AS [s]
    ON [t].[Id] = [s].[Id]
    WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] < [s].[versionnumber]) THEN UPDATE SET
        [t].[SinkModifiedOn] = GETUTCDATE(),
        [t].[versionnumber] = [s].[versionnumber],
        [t].[accountid] = [s].[accountid],
        [t].[name] = [s].[name],
        [t].[description] = [s].[description],
        [t].[numberofemployees] = [s].[numberofemployees],
        [t].[entityimage_timestamp] = [s].[entityimage_timestamp],
        [t].[revenue] = [s].[revenue],
        [t].[exchangerate] = [s].[exchangerate],
        [t].[address1_latitude] = [s].[address1_latitude],
        [t].[creditonhold] = [s].[creditonhold],
        [t].[createdon] = [s].[createdon],
        [t].[lastonholdtime] = [s].[lastonholdtime],
        [t].[ownerid] = [s].[ownerid],
        [t].[ownerid_entitytype] = [s].[ownerid_entitytype],
        [t].[statecode] = [s].[statecode]
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [accountid], [name], [description], [numberofemployees], [entityimage_timestamp], [revenue], [exchangerate], [address1_latitude], [creditonhold], [createdon], [lastonholdtime], [ownerid], [ownerid_entitytype], [statecode])
        VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[accountid], [s].[name], [s].[description], [s].[numberofemployees], [s].[entityimage_timestamp], [s].[revenue], [s].[exchangerate], [s].[address1_latitude], [s].[creditonhold], [s].[createdon], [s].[lastonholdtime], [s].[ownerid], [s].[ownerid_entitytype], [s].[statecode]);
    SELECT @@ROWCOUNT AS [Upserted];
END;
GO
CREATE OR ALTER PROCEDURE [dbo].[crm_account_Delete]
    @ids [dbo].[crm_accountIdType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);
    DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);
    INSERT INTO @del ([Id], [VersionNumber])
        SELECT [Id], MAX([VersionNumber]) FROM @ids GROUP BY [Id];
    DELETE [t] OUTPUT DELETED.[Id] INTO @hit ([Id])
        FROM [dbo].[crm_account] AS [t] WITH (HOLDLOCK)
        INNER JOIN @del AS [d] ON [d].[Id] = [t].[Id]
        WHERE [t].[versionnumber] IS NULL OR [t].[versionnumber] <= [d].[VersionNumber];
    MERGE [dbo].[crm_dataexport_tombstone] WITH (HOLDLOCK) AS [tb]
    USING @del AS [d] ON [tb].[TableName] = N'crm_account' AND [tb].[Id] = [d].[Id]
    WHEN MATCHED AND [tb].[VersionNumber] < [d].[VersionNumber] THEN
        UPDATE SET [tb].[VersionNumber] = [d].[VersionNumber], [tb].[DeletedOn] = GETUTCDATE()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'crm_account', [d].[Id], [d].[VersionNumber], GETUTCDATE())
    OUTPUT INSERTED.[Id] INTO @hit ([Id]);
    SELECT COUNT(DISTINCT [Id]) AS [Deleted] FROM @hit;
END;
GO
