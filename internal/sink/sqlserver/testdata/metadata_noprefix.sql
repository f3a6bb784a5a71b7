IF SCHEMA_ID(N'dbo') IS NULL
    EXEC(N'CREATE SCHEMA [dbo]');
GO
IF OBJECT_ID(N'[dbo].[GlobalOptionSetMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[GlobalOptionSetMetadata] (
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[dbo].[OptionSetMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[OptionSetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[dbo].[StateMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[StateMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[dbo].[StatusMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[StatusMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [Status] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(350) NULL
);
GO
IF OBJECT_ID(N'[dbo].[TargetMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[TargetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [ReferencedEntity] nvarchar(64) NULL,
    [ReferencedAttribute] nvarchar(64) NULL
);
GO
IF OBJECT_ID(N'[dbo].[AttributeMetadata]', N'U') IS NULL
CREATE TABLE [dbo].[AttributeMetadata] (
    [Id] uniqueidentifier NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [AttributeType] nvarchar(64) NULL,
    [AttributeTypeCode] int NULL,
    [Version] bigint NULL,
    [Timestamp] datetime NULL,
    [MetadataId] nvarchar(64) NULL,
    [Precision] int NULL,
    CONSTRAINT [EPK[dbo]].[AttributeMetadata]]] PRIMARY KEY CLUSTERED ([Id])
);
GO
