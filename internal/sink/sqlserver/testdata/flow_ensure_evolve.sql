BEGIN TRANSACTION;
DECLARE @r int;
EXEC @r = sp_getapplock @Resource = @p1, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
IF @r < 0 THROW 51000, N'dataexport: timed out waiting for the schema lock', 1;
-- args: @p1 = "dataexport:[dbo].[crm_account]"
SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];
-- args: @p1 = "[dbo].[crm_account]"
IF COL_LENGTH(N'[dbo].[crm_account]', N'telephone1') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [telephone1] nvarchar(50) NULL;
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'numberofemployees' AND [system_type_id] IN (48, 52, 56))
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [numberofemployees] bigint NULL;
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'revenue' AND [system_type_id] IN (106, 108) AND [scale] < 4)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [revenue] decimal(38,4) NULL;
SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];
-- args: @p1 = "[dbo].[crm_account]"
SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.table_types AS tt
INNER JOIN sys.columns AS c ON c.[object_id] = tt.[type_table_object_id]
WHERE tt.[schema_id] = SCHEMA_ID(@p1) AND tt.[name] = @p2
ORDER BY c.[column_id];
-- args: @p1 = "dbo", @p2 = "crm_accountType"
IF NOT EXISTS (SELECT 1 FROM sys.types WHERE [is_table_type] = 1 AND [schema_id] = SCHEMA_ID(N'dbo') AND [name] = N'crm_accountIdType')
    CREATE TYPE [dbo].[crm_accountIdType] AS TABLE (
        [Id] uniqueidentifier NOT NULL,
        [VersionNumber] bigint NOT NULL
    );
DROP PROCEDURE IF EXISTS [dbo].[crm_account_Upsert];
DROP PROCEDURE IF EXISTS [dbo].[crm_account_Delete];
DROP TYPE IF EXISTS [dbo].[crm_accountType];
CREATE TYPE [dbo].[crm_accountType] AS TABLE (
    [Id] uniqueidentifier NOT NULL,
    [accountid] uniqueidentifier NULL,
    [name] nvarchar(100) NULL,
    [numberofemployees] bigint NULL,
    [revenue] decimal(38,4) NULL,
    [telephone1] nvarchar(50) NULL,
    [versionnumber] bigint NOT NULL
);
CREATE OR ALTER PROCEDURE [dbo].[crm_account_Upsert]
    @rows [dbo].[crm_accountType] READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    WITH [ranked] AS (
        SELECT [Id], [versionnumber], [accountid], [name], [numberofemployees], [revenue], [telephone1],
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
        [t].[numberofemployees] = [s].[numberofemployees],
        [t].[revenue] = [s].[revenue],
        [t].[telephone1] = [s].[telephone1]
    WHEN NOT MATCHED BY TARGET THEN
        INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [accountid], [name], [numberofemployees], [revenue], [telephone1])
        VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[accountid], [s].[name], [s].[numberofemployees], [s].[revenue], [s].[telephone1]);
    SELECT @@ROWCOUNT AS [Upserted];
END;
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
COMMIT TRANSACTION;
