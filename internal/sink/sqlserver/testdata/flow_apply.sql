SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];
-- args: @p1 = "[dbo].[crm_account]"
BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_ids];
CREATE TABLE [#dataexport_ids] ([Id] uniqueidentifier NOT NULL, [VersionNumber] bigint NOT NULL);
-- bulk copy into #dataexport_ids (Id, VersionNumber)
--   row: guid 00000003-0000-4000-8000-000000000003 | int64 9
-- bulk copy done: 1 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);
DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);
INSERT INTO @del ([Id], [VersionNumber])
    SELECT [Id], MAX([VersionNumber]) FROM [#dataexport_ids] GROUP BY [Id];
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
DROP TABLE IF EXISTS [#dataexport_ids];
DROP TABLE IF EXISTS [#dataexport_stage];
SELECT TOP (0) [Id], [versionnumber], [name], [revenue], [createdon], [lastonholdtime], [ownerid], [creditonhold] INTO [#dataexport_stage] FROM [dbo].[crm_account];
-- bulk copy into #dataexport_stage (Id, versionnumber, name, revenue, createdon, lastonholdtime, ownerid, creditonhold)
--   row: guid 00000001-0000-4000-8000-000000000001 | int64 3 | "v3" | "1.01" | 2024-02-29T13:45:30Z | 2024-02-29T00:00:00Z | guid abcdef00-0000-4000-8000-0000000000ff | bool true
--   row: guid 00000002-0000-4000-8000-000000000002 | int64 1 | NULL | NULL | NULL | NULL | NULL | NULL
-- bulk copy done: 2 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [name], [revenue], [createdon], [lastonholdtime], [ownerid], [creditonhold],
        ROW_NUMBER() OVER (PARTITION BY [Id] ORDER BY [versionnumber] DESC) AS [rn]
    FROM [#dataexport_stage]
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
    [t].[name] = [s].[name],
    [t].[revenue] = [s].[revenue],
    [t].[createdon] = [s].[createdon],
    [t].[lastonholdtime] = [s].[lastonholdtime],
    [t].[ownerid] = [s].[ownerid],
    [t].[creditonhold] = [s].[creditonhold]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [name], [revenue], [createdon], [lastonholdtime], [ownerid], [creditonhold])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[name], [s].[revenue], [s].[createdon], [s].[lastonholdtime], [s].[ownerid], [s].[creditonhold]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
COMMIT TRANSACTION;
