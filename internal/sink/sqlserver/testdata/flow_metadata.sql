IF SCHEMA_ID(N'dbo') IS NULL
    EXEC(N'CREATE SCHEMA [dbo]');
IF OBJECT_ID(N'[dbo].[crm_GlobalOptionSetMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_GlobalOptionSetMetadata] (
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
IF OBJECT_ID(N'[dbo].[crm_OptionSetMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_OptionSetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
IF OBJECT_ID(N'[dbo].[crm_StateMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_StateMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
IF OBJECT_ID(N'[dbo].[crm_StatusMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_StatusMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [Status] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
IF OBJECT_ID(N'[dbo].[crm_TargetMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_TargetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [ReferencedEntity] nvarchar(64) NULL,
    [ReferencedAttribute] nvarchar(64) NULL
);
IF OBJECT_ID(N'[dbo].[crm_AttributeMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[crm_AttributeMetadata] (
    [Id] uniqueidentifier NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [AttributeType] nvarchar(64) NULL,
    [AttributeTypeCode] int NULL,
    [Version] bigint NULL,
    [Timestamp] datetime NULL,
    [MetadataId] nvarchar(64) NULL,
    [Precision] int NULL,
    CONSTRAINT [EPK[dbo]].[crm_AttributeMetadata]]] PRIMARY KEY CLUSTERED ([Id])
);
BEGIN TRANSACTION;
DECLARE @r int;
EXEC @r = sp_getapplock @Resource = @p1, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
IF @r < 0 THROW 51000, N'dataexport: timed out waiting for the schema lock', 1;
-- args: @p1 = "dataexport:metadata:dbo"
DROP TABLE IF EXISTS [#dataexport_keys];
CREATE TABLE [#dataexport_keys] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);
-- bulk copy into #dataexport_keys (Key)
--   row: "categories"
-- bulk copy done: 1 rows
DELETE FROM [dbo].[crm_GlobalOptionSetMetadata] WHERE [OptionSetName] IN (SELECT [Key] FROM [#dataexport_keys]);
DROP TABLE IF EXISTS [#dataexport_keys];
DROP TABLE IF EXISTS [#dataexport_meta];
SELECT TOP (0) [OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] INTO [#dataexport_meta] FROM [dbo].[crm_GlobalOptionSetMetadata];
-- bulk copy into #dataexport_meta (OptionSetName, Option, IsUserLocalizedLabel, LocalizedLabelLanguageCode, LocalizedLabel)
--   row: "categories" | int64 1 | bool false | int64 1033 | "Preferred"
--   row: "categories" | int64 3 | bool false | int64 1033 | "Standard"
--   row: "categories" | int64 5 | bool false | int64 1033 | "It's \"quoted\""
-- bulk copy done: 3 rows
INSERT INTO [dbo].[crm_GlobalOptionSetMetadata] ([OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel])
    SELECT [OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] FROM [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_keys];
CREATE TABLE [#dataexport_keys] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);
-- bulk copy into #dataexport_keys (Key)
--   row: "account"
-- bulk copy done: 1 rows
DELETE FROM [dbo].[crm_OptionSetMetadata] WHERE [EntityName] IN (SELECT [Key] FROM [#dataexport_keys]);
DROP TABLE IF EXISTS [#dataexport_keys];
DROP TABLE IF EXISTS [#dataexport_meta];
SELECT TOP (0) [EntityName], [OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] INTO [#dataexport_meta] FROM [dbo].[crm_OptionSetMetadata];
-- bulk copy into #dataexport_meta (EntityName, OptionSetName, Option, IsUserLocalizedLabel, LocalizedLabelLanguageCode, LocalizedLabel)
--   row: "account" | "donotemail" | int64 0 | bool false | int64 1033 | "Allow"
--   row: "account" | "donotemail" | int64 1 | bool false | int64 1033 | "Do Not Allow"
--   row: "account" | "industrycode" | int64 1 | bool true | int64 1033 | "Accounting"
--   row: "account" | "industrycode" | int64 1 | bool false | int64 1031 | "Buchhaltung"
--   row: "account" | "industrycode" | int64 2 | bool false | int64 1033 | "Agriculture and Non-petrol Natural Resource Extraction"
-- bulk copy done: 5 rows
INSERT INTO [dbo].[crm_OptionSetMetadata] ([EntityName], [OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel])
    SELECT [EntityName], [OptionSetName], [Option], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] FROM [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_keys];
CREATE TABLE [#dataexport_keys] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);
-- bulk copy into #dataexport_keys (Key)
--   row: "account"
-- bulk copy done: 1 rows
DELETE FROM [dbo].[crm_StateMetadata] WHERE [EntityName] IN (SELECT [Key] FROM [#dataexport_keys]);
DROP TABLE IF EXISTS [#dataexport_keys];
DROP TABLE IF EXISTS [#dataexport_meta];
SELECT TOP (0) [EntityName], [State], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] INTO [#dataexport_meta] FROM [dbo].[crm_StateMetadata];
-- bulk copy into #dataexport_meta (EntityName, State, IsUserLocalizedLabel, LocalizedLabelLanguageCode, LocalizedLabel)
--   row: "account" | int64 0 | bool false | int64 1033 | "Active"
--   row: "account" | int64 1 | bool false | int64 1033 | "Inactive"
-- bulk copy done: 2 rows
INSERT INTO [dbo].[crm_StateMetadata] ([EntityName], [State], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel])
    SELECT [EntityName], [State], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] FROM [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_keys];
CREATE TABLE [#dataexport_keys] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);
-- bulk copy into #dataexport_keys (Key)
--   row: "account"
-- bulk copy done: 1 rows
DELETE FROM [dbo].[crm_StatusMetadata] WHERE [EntityName] IN (SELECT [Key] FROM [#dataexport_keys]);
DROP TABLE IF EXISTS [#dataexport_keys];
DROP TABLE IF EXISTS [#dataexport_meta];
SELECT TOP (0) [EntityName], [State], [Status], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] INTO [#dataexport_meta] FROM [dbo].[crm_StatusMetadata];
-- bulk copy into #dataexport_meta (EntityName, State, Status, IsUserLocalizedLabel, LocalizedLabelLanguageCode, LocalizedLabel)
--   row: "account" | int64 0 | int64 1 | bool false | int64 1033 | "Active"
--   row: "account" | int64 1 | int64 2 | bool false | int64 1033 | "Inactive"
-- bulk copy done: 2 rows
INSERT INTO [dbo].[crm_StatusMetadata] ([EntityName], [State], [Status], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel])
    SELECT [EntityName], [State], [Status], [IsUserLocalizedLabel], [LocalizedLabelLanguageCode], [LocalizedLabel] FROM [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_keys];
CREATE TABLE [#dataexport_keys] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);
-- bulk copy into #dataexport_keys (Key)
--   row: "account"
-- bulk copy done: 1 rows
DELETE FROM [dbo].[crm_TargetMetadata] WHERE [EntityName] IN (SELECT [Key] FROM [#dataexport_keys]);
DROP TABLE IF EXISTS [#dataexport_keys];
DROP TABLE IF EXISTS [#dataexport_meta];
SELECT TOP (0) [EntityName], [AttributeName], [ReferencedEntity], [ReferencedAttribute] INTO [#dataexport_meta] FROM [dbo].[crm_TargetMetadata];
-- bulk copy into #dataexport_meta (EntityName, AttributeName, ReferencedEntity, ReferencedAttribute)
--   row: "account" | "primarycontactid" | "contact" | "contactid"
--   row: "account" | "parentcustomerid" | "account" | "accountid"
--   row: "account" | "parentcustomerid" | "contact" | "contactid"
--   row: "account" | "ownerid" | "systemuser" | "systemuserid"
--   row: "account" | "ownerid" | "team" | "teamid"
-- bulk copy done: 5 rows
INSERT INTO [dbo].[crm_TargetMetadata] ([EntityName], [AttributeName], [ReferencedEntity], [ReferencedAttribute])
    SELECT [EntityName], [AttributeName], [ReferencedEntity], [ReferencedAttribute] FROM [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_keys];
CREATE TABLE [#dataexport_keys] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);
-- bulk copy into #dataexport_keys (Key)
--   row: "account"
-- bulk copy done: 1 rows
DELETE FROM [dbo].[crm_AttributeMetadata] WHERE [EntityName] IN (SELECT [Key] FROM [#dataexport_keys]);
DROP TABLE IF EXISTS [#dataexport_keys];
DROP TABLE IF EXISTS [#dataexport_meta];
SELECT TOP (0) [Id], [EntityName], [AttributeName], [AttributeType], [AttributeTypeCode], [Version], [Timestamp], [MetadataId], [Precision] INTO [#dataexport_meta] FROM [dbo].[crm_AttributeMetadata];
-- bulk copy into #dataexport_meta (Id, EntityName, AttributeName, AttributeType, AttributeTypeCode, Version, Timestamp, MetadataId, Precision)
--   row: guid f499bea6-6c66-5d53-ac09-b762bd84c36f | "account" | "accountid" | "Uniqueidentifier" | int64 15 | int64 2418066745775895851 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid a6e87310-c03a-5b78-bc46-e2dae27f7f87 | "account" | "name" | "String" | int64 14 | int64 2340073641027842823 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid fafccf08-63fa-524e-a77a-f44b0d7d67d1 | "account" | "description" | "Memo" | int64 7 | int64 1709160722184214286 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid d06ff788-7116-5be0-a3de-ff5a56158bc3 | "account" | "numberofemployees" | "Integer" | int64 5 | int64 519717637050136001 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid d66e7d97-53dd-5c93-834a-a9187177663e | "account" | "entityimage_timestamp" | "BigInt" | int64 18 | int64 5055236152116895814 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 41e03075-afaf-5f08-950a-935c4070d582 | "account" | "exchangerate" | "Decimal" | int64 3 | int64 800516392484356127 | 2026-01-02T03:04:05Z | NULL | int64 10
--   row: guid ee6edb19-16df-50d2-8c11-dd0a5a383926 | "account" | "address1_latitude" | "Double" | int64 4 | int64 3903072856272024207 | 2026-01-02T03:04:05Z | NULL | int64 5
--   row: guid 4a548198-aa51-595f-9230-67663a936f6d | "account" | "revenue" | "Money" | int64 8 | int64 3113998757808600743 | 2026-01-02T03:04:05Z | NULL | int64 2
--   row: guid 7751480c-061e-5f3d-b2fd-55ec146474b2 | "account" | "createdon" | "DateTime" | int64 2 | int64 3514080720104073847 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid a9015446-ad96-54b8-a60a-16f1f2343e3c | "account" | "birthday" | "DateTime" | int64 2 | int64 1854253167268398596 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 26d47054-7c83-541f-b1bc-b2e08f09d6b2 | "account" | "donotemail" | "Boolean" | int64 0 | int64 7910231693673914450 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 3bed5736-85ee-5a85-81e0-e415299cbdad | "account" | "industrycode" | "Picklist" | int64 11 | int64 6279911199012387475 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid a022953f-41f1-5582-8992-fea531cd81d6 | "account" | "categories" | "MultiSelectPicklist" | int64 17 | int64 8153929612188857619 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 3e3ff24d-7008-5f18-b5be-ba20e87eb3f2 | "account" | "statecode" | "State" | int64 12 | int64 401863999575530460 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 98e3189f-5353-58a0-8ac1-d4c212b30156 | "account" | "statuscode" | "Status" | int64 13 | int64 6649666252292520470 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 82a5fa5a-c81c-590b-b7ac-62e75d4303cd | "account" | "primarycontactid" | "Lookup" | int64 6 | int64 1096505046644095971 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid fe6f4da8-d5ca-5f09-ba79-06b512ae171e | "account" | "primarycontactidname" | "String" | int64 14 | int64 1915956432528610221 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid c9d4393b-cb55-5b81-98bb-088035993862 | "account" | "parentcustomerid" | "Customer" | int64 1 | int64 7501114417736878526 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 1778b56b-54a6-5502-bc2d-a90830c9dfd8 | "account" | "parentcustomeridname" | "String" | int64 14 | int64 3754238552224421163 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid dcacb499-a874-5cc2-9bd3-3ccb94d475ef | "account" | "parentcustomeridtype" | "EntityName" | int64 20 | int64 2059772800878294207 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 7de8e4d3-64ef-5b9b-804c-abf7ed5e800f | "account" | "ownerid" | "Owner" | int64 9 | int64 447803665052087843 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 4ad09f85-dbfa-5552-8168-71e4cc60cd01 | "account" | "owneridtype" | "EntityName" | int64 20 | int64 9173933986658093383 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 471ccee1-e7dc-574c-9012-98c884df9945 | "account" | "longtext" | "String" | int64 14 | int64 2855972055924357364 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 5d6dfef1-f696-50d7-ab19-943723d11b5a | "account" | "owneridname" | "String" | int64 14 | int64 2455218610255465342 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 1ccbeef1-b89b-5a26-bd16-93c288132db3 | "account" | "owneridyominame" | "String" | int64 14 | int64 3499333842484082380 | 2026-01-02T03:04:05Z | NULL | NULL
--   row: guid 3698a500-5780-52b7-975b-b324f64180d0 | "account" | "revenue_base" | "Money" | int64 8 | int64 648451813566585831 | 2026-01-02T03:04:05Z | NULL | int64 4
--   row: guid 1162dce0-3734-56ea-bfef-f21a26ef2937 | "account" | "versionnumber" | "BigInt" | int64 18 | int64 8827148545629274080 | 2026-01-02T03:04:05Z | NULL | NULL
-- bulk copy done: 27 rows
INSERT INTO [dbo].[crm_AttributeMetadata] ([Id], [EntityName], [AttributeName], [AttributeType], [AttributeTypeCode], [Version], [Timestamp], [MetadataId], [Precision])
    SELECT [Id], [EntityName], [AttributeName], [AttributeType], [AttributeTypeCode], [Version], [Timestamp], [MetadataId], [Precision] FROM [#dataexport_meta];
DROP TABLE IF EXISTS [#dataexport_meta];
COMMIT TRANSACTION;
