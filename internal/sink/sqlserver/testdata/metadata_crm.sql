IF SCHEMA_ID(N'sales') IS NULL
    EXEC(N'CREATE SCHEMA [sales]');
GO
IF OBJECT_ID(N'[sales].[crm_GlobalOptionSetMetadata]', N'U') IS NULL
CREATE TABLE [sales].[crm_GlobalOptionSetMetadata] (
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[sales].[crm_OptionSetMetadata]', N'U') IS NULL
CREATE TABLE [sales].[crm_OptionSetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[sales].[crm_StateMetadata]', N'U') IS NULL
CREATE TABLE [sales].[crm_StateMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[sales].[crm_StatusMetadata]', N'U') IS NULL
CREATE TABLE [sales].[crm_StatusMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [Status] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[sales].[crm_TargetMetadata]', N'U') IS NULL
CREATE TABLE [sales].[crm_TargetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [ReferencedEntity] nvarchar(64) NULL,
    [ReferencedAttribute] nvarchar(64) NULL
);
GO
IF OBJECT_ID(N'[sales].[crm_AttributeMetadata]', N'U') IS NULL
CREATE TABLE [sales].[crm_AttributeMetadata] (
    [Id] uniqueidentifier NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [AttributeType] nvarchar(64) NULL,
    [AttributeTypeCode] int NULL,
    [Version] bigint NULL,
    [Timestamp] datetime NULL,
    [MetadataId] nvarchar(64) NULL,
    [Precision] int NULL,
    CONSTRAINT [EPK[sales]].[crm_AttributeMetadata]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
