IF OBJECT_ID(N'[we]]ird].[it''s [odd]]]', N'U') IS NULL
CREATE TABLE [we]]ird].[it's [odd]]] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [versionnumber] bigint NULL,
    [col]]umn] nvarchar(10) NULL,
    [o'brien] int NULL,
    [sp ace; DROP TABLE x--] bit NULL,
    CONSTRAINT [EPK[we]]ird]].[it's [odd]]]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
IF COL_LENGTH(N'[we]]ird].[it''s [odd]]]', N'col]umn') IS NULL
    ALTER TABLE [we]]ird].[it's [odd]]] ADD [col]]umn] nvarchar(10) NULL;
GO
IF COL_LENGTH(N'[we]]ird].[it''s [odd]]]', N'o''brien') IS NULL
    ALTER TABLE [we]]ird].[it's [odd]]] ADD [o'brien] int NULL;
GO
IF COL_LENGTH(N'[we]]ird].[it''s [odd]]]', N'sp ace; DROP TABLE x--') IS NULL
    ALTER TABLE [we]]ird].[it's [odd]]] ADD [sp ace; DROP TABLE x--] bit NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[we]]ird].[it''s [odd]]]') AND [name] = N'col]umn' AND [max_length] <> -1 AND [max_length] < 20)
    ALTER TABLE [we]]ird].[it's [odd]]] ALTER COLUMN [col]]umn] nvarchar(10) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[we]]ird].[it''s [odd]]]') AND [name] = N'o''brien' AND [system_type_id] IN (48, 52, 56))
    ALTER TABLE [we]]ird].[it's [odd]]] ALTER COLUMN [o'brien] int NULL;
GO
IF NOT EXISTS (SELECT 1 FROM sys.types WHERE [is_table_type] = 1 AND [schema_id] = SCHEMA_ID(N'we]ird') AND [name] = N'it''s [odd]IdType')
    CREATE TYPE [we]]ird].[it's [odd]]IdType] AS TABLE (
        [Id] uniqueidentifier NOT NULL,
        [VersionNumber] bigint NOT NULL
    );
GO
DROP PROCEDURE IF EXISTS [we]]ird].[it's [odd]]_Upsert];
GO
DROP PROCEDURE IF EXISTS [we]]ird].[it's [odd]]_Delete];
GO
DROP TYPE IF EXISTS [we]]ird].[it's [odd]]Type];
GO
CREATE TYPE [we]]ird].[it's [odd]]Type] AS TABLE (
    [Id] uniqueidentifier NOT NULL,
    [col]]umn] nvarchar(10) NULL,
    [o'brien] int NULL,
    [sp ace; DROP TABLE x--] bit NULL,
    [versionnumber] bigint NOT NULL
);
GO
CREATE OR ALTER PROCEDURE [we]]ird].[it's [odd]]_Upsert]
    @rows [we]]ird].[it's [odd]]Type] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    WITH [ranked] AS (
        SELECT [Id], [versionnumber], [col]]umn], [o'brien], [sp ace; DROP TABLE x--],
            ROW_NUMBER() OVER (PARTITION BY [Id] ORDER BY [versionnumber] DESC) AS [rn]
        FROM @rows
    )
    MERGE [we]]ird].[it's [odd]]] WITH (HOLDLOCK) AS [t]
    USING (
        SELECT * FROM [ranked] AS [r]
        WHERE [r].[rn] = 1
          AND NOT EXISTS (SELECT 1 FROM [we]]ird].[t]]omb] AS [d] WITH (HOLDLOCK)
              WHERE [d].[TableName] = N'it''s [odd]' AND [d].[Id] = [r].[Id] AND [d].[VersionNumber] >= [r].[versionnumber])
    ) AS [s]
    ON [t].[Id] = [s].[Id]
    WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] < [s].[versionnumber]) THEN UPDATE SET
        [t].[SinkModifiedOn] = GETUTCDATE(),
        [t].[versionnumber] = [s].[versionnumber],
        [t].[col]]umn] = [s].[col]]umn],
        [t].[o'brien] = [s].[o'brien],
        [t].[sp ace; DROP TABLE x--] = [s].[sp ace; DROP TABLE x--]
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [col]]umn], [o'brien], [sp ace; DROP TABLE x--])
        VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[col]]umn], [s].[o'brien], [s].[sp ace; DROP TABLE x--]);
    SELECT @@ROWCOUNT AS [Upserted];
END;
GO
CREATE OR ALTER PROCEDURE [we]]ird].[it's [odd]]_Delete]
    @ids [we]]ird].[it's [odd]]IdType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);
    DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);
    INSERT INTO @del ([Id], [VersionNumber])
        SELECT [Id], MAX([VersionNumber]) FROM @ids GROUP BY [Id];
    DELETE [t] OUTPUT DELETED.[Id] INTO @hit ([Id])
        FROM [we]]ird].[it's [odd]]] AS [t] WITH (HOLDLOCK)
        INNER JOIN @del AS [d] ON [d].[Id] = [t].[Id]
        WHERE [t].[versionnumber] IS NULL OR [t].[versionnumber] <= [d].[VersionNumber];
    MERGE [we]]ird].[t]]omb] WITH (HOLDLOCK) AS [tb]
    USING @del AS [d] ON [tb].[TableName] = N'it''s [odd]' AND [tb].[Id] = [d].[Id]
    WHEN MATCHED AND [tb].[VersionNumber] < [d].[VersionNumber] THEN
        UPDATE SET [tb].[VersionNumber] = [d].[VersionNumber], [tb].[DeletedOn] = GETUTCDATE()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'it''s [odd]', [d].[Id], [d].[VersionNumber], GETUTCDATE())
    OUTPUT INSERTED.[Id] INTO @hit ([Id]);
    SELECT COUNT(DISTINCT [Id]) AS [Deleted] FROM @hit;
END;
GO
