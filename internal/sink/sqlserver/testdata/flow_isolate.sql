SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];
-- args: @p1 = "[dbo].[crm_account]"
BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_stage];
SELECT TOP (0) [Id], [versionnumber], [name] INTO [#dataexport_stage] FROM [dbo].[crm_account];
-- bulk copy into #dataexport_stage (Id, versionnumber, name)
--   row: guid 00000001-0000-4000-8000-000000000001 | int64 1 | "n1"
--   row: guid 00000002-0000-4000-8000-000000000002 | int64 1 | "n2"
--   row: guid 00000003-0000-4000-8000-000000000003 | int64 1 | "n3"
--   row: guid 00000004-0000-4000-8000-000000000004 | int64 1 | "n4"
-- bulk copy done: 4 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [name],
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
    [t].[name] = [s].[name]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [name])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[name]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
-- error: mssql: The MERGE statement conflicted with the CHECK constraint "refuse". (547)
mssql: The statement has been terminated. (3621)
ROLLBACK TRANSACTION;
BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_stage];
SELECT TOP (0) [Id], [versionnumber], [name] INTO [#dataexport_stage] FROM [dbo].[crm_account];
-- bulk copy into #dataexport_stage (Id, versionnumber, name)
--   row: guid 00000001-0000-4000-8000-000000000001 | int64 1 | "n1"
--   row: guid 00000002-0000-4000-8000-000000000002 | int64 1 | "n2"
-- bulk copy done: 2 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [name],
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
    [t].[name] = [s].[name]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [name])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[name]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
COMMIT TRANSACTION;
BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_stage];
SELECT TOP (0) [Id], [versionnumber], [name] INTO [#dataexport_stage] FROM [dbo].[crm_account];
-- bulk copy into #dataexport_stage (Id, versionnumber, name)
--   row: guid 00000003-0000-4000-8000-000000000003 | int64 1 | "n3"
--   row: guid 00000004-0000-4000-8000-000000000004 | int64 1 | "n4"
-- bulk copy done: 2 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [name],
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
    [t].[name] = [s].[name]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [name])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[name]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
-- error: mssql: The MERGE statement conflicted with the CHECK constraint "refuse". (547)
mssql: The statement has been terminated. (3621)
ROLLBACK TRANSACTION;
BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_stage];
SELECT TOP (0) [Id], [versionnumber], [name] INTO [#dataexport_stage] FROM [dbo].[crm_account];
-- bulk copy into #dataexport_stage (Id, versionnumber, name)
--   row: guid 00000003-0000-4000-8000-000000000003 | int64 1 | "n3"
-- bulk copy done: 1 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [name],
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
    [t].[name] = [s].[name]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [name])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[name]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
-- error: mssql: The MERGE statement conflicted with the CHECK constraint "refuse". (547)
mssql: The statement has been terminated. (3621)
ROLLBACK TRANSACTION;
BEGIN TRANSACTION;
DROP TABLE IF EXISTS [#dataexport_stage];
SELECT TOP (0) [Id], [versionnumber], [name] INTO [#dataexport_stage] FROM [dbo].[crm_account];
-- bulk copy into #dataexport_stage (Id, versionnumber, name)
--   row: guid 00000004-0000-4000-8000-000000000004 | int64 1 | "n4"
-- bulk copy done: 1 rows
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [name],
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
    [t].[name] = [s].[name]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [name])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[name]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
COMMIT TRANSACTION;
