IF OBJECT_ID(N'[sales].[dataexport_keys]', N'U') IS NULL
CREATE TABLE [sales].[dataexport_keys] (
    [TableName] nvarchar(128) NOT NULL,
    [ScanId] nvarchar(32) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [StagedOn] datetime NOT NULL,
    CONSTRAINT [EPK[sales]].[dataexport_keys]]] PRIMARY KEY CLUSTERED ([TableName], [ScanId], [Id])
);
GO
SELECT [Id], ISNULL([versionnumber], 0) FROM [sales].[contact];
GO
SELECT CASE WHEN EXISTS (SELECT 1 FROM [sales].[contact]) THEN 1 ELSE 0 END AS [HasRows];
GO
DROP TABLE IF EXISTS [#dataexport_scan];
GO
CREATE TABLE [#dataexport_scan] ([Id] uniqueidentifier NOT NULL);
GO
-- bulk copy: Id
GO
SET NOCOUNT ON;
SET XACT_ABORT ON;
INSERT INTO [sales].[dataexport_keys] ([TableName], [ScanId], [Id], [StagedOn])
    SELECT DISTINCT N'contact', N'0a1b2c3d', [s].[Id], GETUTCDATE() FROM [#dataexport_scan] AS [s]
    WHERE NOT EXISTS (SELECT 1 FROM [sales].[dataexport_keys] AS [k] WHERE [k].[TableName] = N'contact' AND [k].[ScanId] = N'0a1b2c3d' AND [k].[Id] = [s].[Id]);
SELECT @@ROWCOUNT AS [Staged];
DROP TABLE IF EXISTS [#dataexport_scan];
GO
SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @holds bigint = (SELECT COUNT_BIG(*) FROM [sales].[dataexport_keys] WITH (HOLDLOCK) WHERE [TableName] = N'contact' AND [ScanId] = N'0a1b2c3d');
DECLARE @gone TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY);
IF @holds >= 12345
BEGIN
    DELETE [t] OUTPUT DELETED.[Id] INTO @gone ([Id])
        FROM [sales].[contact] AS [t] WITH (HOLDLOCK)
        WHERE ([t].[versionnumber] IS NULL OR [t].[versionnumber] <= 1002345)
          AND NOT EXISTS (SELECT 1 FROM [sales].[dataexport_keys] AS [k] WHERE [k].[TableName] = N'contact' AND [k].[ScanId] = N'0a1b2c3d' AND [k].[Id] = [t].[Id])
        OPTION (HASH JOIN, MERGE JOIN);
    MERGE [sales].[dataexport_tombstone] WITH (HOLDLOCK) AS [tb]
    USING @gone AS [g] ON [tb].[TableName] = N'contact' AND [tb].[Id] = [g].[Id]
    WHEN MATCHED AND [tb].[VersionNumber] < 1002345 THEN
        UPDATE SET [tb].[VersionNumber] = 1002345, [tb].[DeletedOn] = GETUTCDATE()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'contact', [g].[Id], 1002345, GETUTCDATE());
    INSERT INTO [sales].[DeleteLog] ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])
        SELECT NEWID(), N'contact', LOWER(CONVERT(nvarchar(36), [g].[Id])), GETUTCDATE(), 1002345 FROM @gone AS [g];
END;
SELECT CASE WHEN @holds >= 12345 THEN (SELECT COUNT(*) FROM @gone) ELSE -1 END AS [Removed], @holds AS [Holds];
GO
DELETE FROM [sales].[dataexport_keys] WHERE [TableName] = N'contact' AND ([ScanId] = @p1 OR [StagedOn] < @p2);
GO
