BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_scan];
CREATE TABLE [#dataexport_scan] ([Id] uniqueidentifier NOT NULL);
-- bulk copy into #dataexport_scan (Id)
--   row: guid 00000001-0000-4000-8000-000000000001
--   row: guid 00000002-0000-4000-8000-000000000002
--   row: guid 00000003-0000-4000-8000-000000000003
-- bulk copy done: 3 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
INSERT INTO [dbo].[crm_dataexport_keys] ([TableName], [ScanId], [Id], [StagedOn])
    SELECT DISTINCT N'crm_account', N'0a1b2c3d', [s].[Id], GETUTCDATE() FROM [#dataexport_scan] AS [s]
    WHERE NOT EXISTS (SELECT 1 FROM [dbo].[crm_dataexport_keys] AS [k] WHERE [k].[TableName] = N'crm_account' AND [k].[ScanId] = N'0a1b2c3d' AND [k].[Id] = [s].[Id]);
SELECT @@ROWCOUNT AS [Staged];
DROP TABLE IF EXISTS [#dataexport_scan];
COMMIT TRANSACTION;
SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];
-- args: @p1 = "[dbo].[crm_account]"
BEGIN TRANSACTION;
SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @holds bigint = (SELECT COUNT_BIG(*) FROM [dbo].[crm_dataexport_keys] WITH (HOLDLOCK) WHERE [TableName] = N'crm_account' AND [ScanId] = N'0a1b2c3d');
DECLARE @gone TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY);
IF @holds >= 3
BEGIN
    DELETE [t] OUTPUT DELETED.[Id] INTO @gone ([Id])
        FROM [dbo].[crm_account] AS [t] WITH (HOLDLOCK)
        WHERE ([t].[versionnumber] IS NULL OR [t].[versionnumber] <= 77)
          AND NOT EXISTS (SELECT 1 FROM [dbo].[crm_dataexport_keys] AS [k] WHERE [k].[TableName] = N'crm_account' AND [k].[ScanId] = N'0a1b2c3d' AND [k].[Id] = [t].[Id])
        OPTION (HASH JOIN, MERGE JOIN);
    MERGE [dbo].[crm_dataexport_tombstone] WITH (HOLDLOCK) AS [tb]
    USING @gone AS [g] ON [tb].[TableName] = N'crm_account' AND [tb].[Id] = [g].[Id]
    WHEN MATCHED AND [tb].[VersionNumber] < 77 THEN
        UPDATE SET [tb].[VersionNumber] = 77, [tb].[DeletedOn] = GETUTCDATE()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'crm_account', [g].[Id], 77, GETUTCDATE());
    INSERT INTO [dbo].[crm_DeleteLog] ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])
        SELECT NEWID(), N'account', LOWER(CONVERT(nvarchar(36), [g].[Id])), GETUTCDATE(), 77 FROM @gone AS [g];
END;
SELECT CASE WHEN @holds >= 3 THEN (SELECT COUNT(*) FROM @gone) ELSE -1 END AS [Removed], @holds AS [Holds];
COMMIT TRANSACTION;
