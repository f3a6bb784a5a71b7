BEGIN TRANSACTION;
DECLARE @r int;
EXEC @r = sp_getapplock @Resource = @p1, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
IF @r < 0 THROW 51000, N'dataexport: timed out waiting for the schema lock', 1;
-- args: @p1 = "dataexport:[dbo].[crm_account]"
IF OBJECT_ID(N'[dbo].[crm_account_labels]', N'V') IS NOT NULL
    DROP VIEW [dbo].[crm_account_labels];
DROP PROCEDURE IF EXISTS [dbo].[crm_account_Upsert];
DROP PROCEDURE IF EXISTS [dbo].[crm_account_Delete];
DROP TABLE IF EXISTS [dbo].[crm_account];
DROP TYPE IF EXISTS [dbo].[crm_accountType];
DROP TYPE IF EXISTS [dbo].[crm_accountIdType];
IF OBJECT_ID(N'[dbo].[crm_dataexport_tombstone]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_dataexport_tombstone] WHERE [TableName] = N'crm_account';
IF OBJECT_ID(N'[dbo].[crm_dataexport_keys]', N'U') IS NOT NULL
    DELETE FROM [dbo].[crm_dataexport_keys] WHERE [TableName] = N'crm_account';
COMMIT TRANSACTION;
