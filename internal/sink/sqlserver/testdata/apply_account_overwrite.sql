SET NOCOUNT ON;
SET XACT_ABORT ON;
WITH [ranked] AS (
    SELECT [Id], [versionnumber], [accountid], [description], [entityimage_timestamp], [exchangerate], [creditonhold], [lastonholdtime], [ownerid_entitytype],
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
WHEN MATCHED AND ([t].[versionnumber] IS NULL OR [t].[versionnumber] <= [s].[versionnumber]) THEN UPDATE SET
    [t].[SinkModifiedOn] = GETUTCDATE(),
    [t].[versionnumber] = [s].[versionnumber],
    [t].[accountid] = [s].[accountid],
    [t].[description] = [s].[description],
    [t].[entityimage_timestamp] = [s].[entityimage_timestamp],
    [t].[exchangerate] = [s].[exchangerate],
    [t].[creditonhold] = [s].[creditonhold],
    [t].[lastonholdtime] = [s].[lastonholdtime],
    [t].[ownerid_entitytype] = [s].[ownerid_entitytype]
WHEN NOT MATCHED BY TARGET THEN
    INSERT ([Id], [SinkCreatedOn], [SinkModifiedOn], [versionnumber], [accountid], [description], [entityimage_timestamp], [exchangerate], [creditonhold], [lastonholdtime], [ownerid_entitytype])
    VALUES ([s].[Id], GETUTCDATE(), GETUTCDATE(), [s].[versionnumber], [s].[accountid], [s].[description], [s].[entityimage_timestamp], [s].[exchangerate], [s].[creditonhold], [s].[lastonholdtime], [s].[ownerid_entitytype]);
SELECT @@ROWCOUNT AS [Upserted];
