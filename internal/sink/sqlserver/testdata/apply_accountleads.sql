DROP TABLE IF EXISTS [#dataexport_ids];
GO
CREATE TABLE [#dataexport_ids] ([Id] uniqueidentifier NOT NULL, [VersionNumber] bigint NOT NULL);
GO
-- bulk copy: Id, VersionNumber
GO
SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @del TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY, [VersionNumber] bigint NOT NULL);
DECLARE @hit TABLE ([Id] uniqueidentifier NOT NULL);
INSERT INTO @del ([Id], [VersionNumber])
    SELECT [Id], MAX([VersionNumber]) FROM [#dataexport_ids] GROUP BY [Id];
DELETE [t] OUTPUT DELETED.[Id] INTO @hit ([Id])
    FROM [dbo].[crm_accountleads] AS [t] WITH (HOLDLOCK)
    INNER JOIN @del AS [d] ON [d].[Id] = [t].[Id]
    WHERE [t].[versionnumber] IS NULL OR [t].[versionnumber] <= [d].[VersionNumber];
MERGE [dbo].[crm_dataexport_tombstone] WITH (HOLDLOCK) AS [tb]
USING @del AS [d] ON [tb].[TableName] = N'crm_accountleads' AND [tb].[Id] = [d].[Id]
WHEN MATCHED AND [tb].[VersionNumber] < [d].[VersionNumber] THEN
    UPDATE SET [tb].[VersionNumber] = [d].[VersionNumber], [tb].[DeletedOn] = GETUTCDATE()
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (N'crm_accountleads', [d].[Id], [d].[VersionNumber], GETUTCDATE())
OUTPUT INSERTED.[Id] INTO @hit ([Id]);
INSERT INTO [dbo].[crm_DeleteLog] ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])
    SELECT NEWID(), N'accountleads', LOWER(CONVERT(nvarchar(36), [d].[Id])), GETUTCDATE(), [d].[VersionNumber]
    FROM @del AS [d]
    WHERE EXISTS (SELECT 1 FROM @hit AS [h] WHERE [h].[Id] = [d].[Id])
      AND NOT EXISTS (SELECT 1 FROM [dbo].[crm_accountleads] AS [t] WHERE [t].[Id] = [d].[Id]);
SELECT COUNT(DISTINCT [Id]) AS [Deleted] FROM @hit;
DROP TABLE IF EXISTS [#dataexport_ids];
GO
DROP TABLE IF EXISTS [#dataexport_stage];
GO
SELECT TOP (0) [Id], [versionnumber], [accountleadid], [leadid] INTO [#dataexport_stage] FROM [dbo].[crm_accountleads];
GO
-- bulk copy: Id, versionnumber, accountleadid, leadid
GO
SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [accountleadid], [leadid],
        ROW_NUMBER() OVER (PARTITION BY [Id] ORDER BY [versionnumber] DESC) AS [rn]
    FROM [#dataexport_stage]
)
MERGE [dbo].[crm_accountleads] WITH (HOLDLOCK) AS [t]
USING (
    SELECT * FROM [ranked] AS [r]
    WHERE [r].[rn] = 1
      AND NOT EXISTS (SELECT 1 FROM [dbo].[crm_dataexport_tombstone] AS [d] WITH (HOLDLOCK)
          WHERE [d].[TableName] = N'crm_accountleads' AND [d].[Id] = [r].[Id] AND [d].[VersionNumber] >= [r].[versionnumber])
) AS [s]
ON [t].[Id] = [s].[Id]
WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] < [s].[versionnumber]) THEN UPDATE SET
    [t].[SinkModifiedOn] = GETUTCDATE(),
    [t].[versionnumber] = [s].[versionnumber],
    [t].[accountleadid] = [s].[accountleadid],
    [t].[leadid] = [s].[leadid]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [accountleadid], [leadid])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[accountleadid], [s].[leadid]);
SELECT @@ROWCOUNT AS [Upserted];
DROP TABLE IF EXISTS [#dataexport_stage];
GO
