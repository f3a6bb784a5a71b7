IF SCHEMA_ID(N'sales') IS NULL
    EXEC(N'CREATE SCHEMA [sales]');
GO
IF OBJECT_ID(N'[sales].[dataexport_tombstone]', N'U') IS NULL
CREATE TABLE [sales].[dataexport_tombstone] (
    [TableName] nvarchar(128) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [VersionNumber] bigint NOT NULL,
    [DeletedOn] datetime NOT NULL,
    CONSTRAINT [EPK[sales]].[dataexport_tombstone]]] PRIMARY KEY CLUSTERED ([TableName], [Id])
);
GO
IF OBJECT_ID(N'[sales].[dataexport_keys]', N'U') IS NULL
CREATE TABLE [sales].[dataexport_keys] (
    [TableName] nvarchar(128) NOT NULL,
    [ScanId] nvarchar(32) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [StagedOn] datetime NOT NULL,
    CONSTRAINT [EPK[sales]].[dataexport_keys]]] PRIMARY KEY CLUSTERED ([TableName], [ScanId], [Id])
);
GO
IF OBJECT_ID(N'[sales].[DeleteLog]', N'U') IS NULL
CREATE TABLE [sales].[DeleteLog] (
    [Id] uniqueidentifier NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [RecordId] nvarchar(64) NULL,
    [SinkDeleteTime] datetime NULL,
    [VersionNumber] bigint NULL,
    CONSTRAINT [EPK[sales]].[DeleteLog]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
IF OBJECT_ID(N'[sales].[contact]', N'U') IS NULL
CREATE TABLE [sales].[contact] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [versionnumber] bigint NULL,
    [contactid] uniqueidentifier NULL,
    [fullname] nvarchar(160) NULL,
    [birthdate] datetime NULL,
    CONSTRAINT [EPK[sales]].[contact]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
IF COL_LENGTH(N'[sales].[contact]', N'contactid') IS NULL
    ALTER TABLE [sales].[contact] ADD [contactid] uniqueidentifier NULL;
GO
IF COL_LENGTH(N'[sales].[contact]', N'fullname') IS NULL
    ALTER TABLE [sales].[contact] ADD [fullname] nvarchar(160) NULL;
GO
IF COL_LENGTH(N'[sales].[contact]', N'birthdate') IS NULL
    ALTER TABLE [sales].[contact] ADD [birthdate] datetime NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[sales].[contact]') AND [name] = N'fullname' AND [max_length] <> -1 AND [max_length] < 320)
    ALTER TABLE [sales].[contact] ALTER COLUMN [fullname] nvarchar(160) NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.types WHERE [is_table_type] = 1 AND [schema_id] = SCHEMA_ID(N'sales') AND [name] = N'contactIdType')
    CREATE TYPE [sales].[contactIdType] AS TABLE (
        [Id] uniqueidentifier NOT NULL,
        [VersionNumber] bigint NOT NULL
    );
GO
DROP PROCEDURE IF EXISTS [sales].[contact_Upsert];
GO
DROP PROCEDURE IF EXISTS [sales].[contact_Delete];
GO
DROP TYPE IF EXISTS [sales].[contactType];
GO
CREATE TYPE [sales].[contactType] AS TABLE (
    [Id] uniqueidentifier NOT NULL,
    [contactid] uniqueidentifier NULL,
    [fullname] nvarchar(160) NULL,
    [birthdate] datetime NULL,
    [versionnumber] bigint NOT NULL
);
GO
CREATE OR ALTER PROCEDURE [sales].[contact_Upsert]
    @rows [sales].[contactType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    WITH [ranked] AS (
        SELECT [Id], [versionnumber], [contactid], [fullname], [birthdate],
            ROW_NUMBER() OVER (PARTITION BY [Id] ORDER BY [versionnumber] DESC) AS [rn]
        FROM @rows
    )
    MERGE [sales].[contact] WITH (HOLDLOCK) AS [t]
    USING (
        SELECT * FROM [ranked] AS [r]
        WHERE [r].[rn] = 1
          AND NOT EXISTS (SELECT 1 FROM [sales].[dataexport_tombstone] AS [d] WITH (HOLDLOCK)
              WHERE [d].[TableName] = N'contact' AND [d].[Id] = [r].[Id] AND [d].[VersionNumber] >= [r].[versionnumber])
    ) AS [s]
    ON [t].[Id] = [s].[Id]
    WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] < [s].[versionnumber]) THEN UPDATE SET
        [t].[SinkModifiedOn] = GETUTCDATE(),
        [t].[versionnumber] = [s].[versionnumber],
        [t].[contactid] = [s].[contactid],
        [t].[fullname] = [s].[fullname],
        [t].[birthdate] = [s].[birthdate]
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [contactid], [fullname], [birthdate])
        VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[contactid], [s].[fullname], [s].[birthdate]);
    SELECT @@ROWCOUNT AS [Upserted];
END;
GO
CREATE OR ALTER PROCEDURE [sales].[contact_Delete]
    @ids [sales].[contactIdType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);
    DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);
    INSERT INTO @del ([Id], [VersionNumber])
        SELECT [Id], MAX([VersionNumber]) FROM @ids GROUP BY [Id];
    DELETE [t] OUTPUT DELETED.[Id] INTO @hit ([Id])
        FROM [sales].[contact] AS [t] WITH (HOLDLOCK)
        INNER JOIN @del AS [d] ON [d].[Id] = [t].[Id]
        WHERE [t].[versionnumber] IS NULL OR [t].[versionnumber] <= [d].[VersionNumber];
    MERGE [sales].[dataexport_tombstone] WITH (HOLDLOCK) AS [tb]
    USING @del AS [d] ON [tb].[TableName] = N'contact' AND [tb].[Id] = [d].[Id]
    WHEN MATCHED AND [tb].[VersionNumber] < [d].[VersionNumber] THEN
        UPDATE SET [tb].[VersionNumber] = [d].[VersionNumber], [tb].[DeletedOn] = GETUTCDATE()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'contact', [d].[Id], [d].[VersionNumber], GETUTCDATE())
    OUTPUT INSERTED.[Id] INTO @hit ([Id]);
    INSERT INTO [sales].[DeleteLog] ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])
        SELECT NEWID(), N'contact', LOWER(CONVERT(nvarchar(36), [d].[Id])), GETUTCDATE(), [d].[VersionNumber]
        FROM @del AS [d]
        WHERE EXISTS (SELECT 1 FROM @hit AS [h] WHERE [h].[Id] = [d].[Id])
          AND NOT EXISTS (SELECT 1 FROM [sales].[contact] AS [t] WHERE [t].[Id] = [d].[Id]);
    SELECT COUNT(DISTINCT [Id]) AS [Deleted] FROM @hit;
END;
GO
