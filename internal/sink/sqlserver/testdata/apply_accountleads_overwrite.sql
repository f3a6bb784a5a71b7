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
WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] <= [s].[versionnumber]) THEN UPDATE SET
    [t].[SinkModifiedOn] = GETUTCDATE(),
    [t].[versionnumber] = [s].[versionnumber],
    [t].[accountleadid] = [s].[accountleadid],
    [t].[leadid] = [s].[leadid]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [accountleadid], [leadid])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[accountleadid], [s].[leadid]);
SELECT @@ROWCOUNT AS [Upserted];
