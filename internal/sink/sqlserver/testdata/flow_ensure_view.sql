SELECT [p].[scope], [p].[permission_name]
FROM (VALUES
    (0, N'DATABASE', N'CREATE TABLE'),
    (1, N'DATABASE', N'CREATE TYPE'),
    (2, N'DATABASE', N'CREATE VIEW'),
    (3, N'DATABASE', N'CREATE PROCEDURE'),
    (4, N'DATABASE', N'ALTER ANY USER'),
    (5, N'DATABASE', N'VIEW DATABASE STATE'),
    (6, N'SCHEMA', N'ALTER'),
    (7, N'SCHEMA', N'INSERT'),
    (8, N'SCHEMA', N'DELETE'),
    (9, N'SCHEMA', N'SELECT'),
    (10, N'SCHEMA', N'UPDATE'),
    (11, N'SCHEMA', N'EXECUTE'),
    (12, N'SCHEMA', N'REFERENCES')
) AS [p]([ord], [scope], [permission_name])
WHERE ISNULL(CASE [p].[scope]
    WHEN N'DATABASE' THEN HAS_PERMS_BY_NAME(NULL, N'DATABASE', [p].[permission_name])
    ELSE HAS_PERMS_BY_NAME(N'dbo', N'SCHEMA', [p].[permission_name]) END, 0) = 0
ORDER BY [p].[ord];
IF SCHEMA_ID(N'dbo') IS NULL
    EXEC(N'CREATE SCHEMA [dbo]');
IF OBJECT_ID(N'[dbo].[crm_dataexport_tombstone]', N'U') IS NULL
CREATE TABLE [dbo].[crm_dataexport_tombstone] (
    [TableName] nvarchar(128) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [VersionNumber] bigint NOT NULL,
    [DeletedOn] datetime NOT NULL,
    CONSTRAINT [EPK[dbo]].[crm_dataexport_tombstone]]] PRIMARY KEY CLUSTERED ([TableName], [Id])
);
IF OBJECT_ID(N'[dbo].[crm_dataexport_keys]', N'U') IS NULL
CREATE TABLE [dbo].[crm_dataexport_keys] (
    [TableName] nvarchar(128) NOT NULL,
    [ScanId] nvarchar(32) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [StagedOn] datetime NOT NULL,
    CONSTRAINT [EPK[dbo]].[crm_dataexport_keys]]] PRIMARY KEY CLUSTERED ([TableName], [ScanId], [Id])
);
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
IF SCHEMA_ID(N'dbo') IS NULL
    EXEC(N'CREATE SCHEMA [dbo]');
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
SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];
-- args: @p1 = "[dbo].[crm_account]"
CREATE OR ALTER VIEW [dbo].[crm_account_labels] AS
SELECT
	[Id],
	[SinkCreatedOn],
	[SinkModifiedOn],
	[versionnumber],
	[accountid],
	[name],
	[description],
	[numberofemployees],
	[entityimage_timestamp],
	[revenue],
	[exchangerate],
	[address1_latitude],
	[creditonhold],
	CASE [creditonhold] WHEN 0 THEN N'No' WHEN 1 THEN N'Yes' END AS [creditonhold_label],
	[createdon],
	[lastonholdtime],
	[ownerid],
	[ownerid_entitytype],
	[statecode],
	CASE [statecode] WHEN 0 THEN N'Active' WHEN 1 THEN N'Inactive' END AS [statecode_label]
FROM [dbo].[crm_account];
