IF COL_LENGTH(N'[dbo].[crm_account]', N'telephone1') IS NULL
    ALTER TABLE [dbo].[crm_account] ADD [telephone1] nvarchar(50) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'name' AND [max_length] <> -1 AND [max_length] < 320)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [name] nvarchar(160) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'numberofemployees' AND [system_type_id] IN (48, 52, 56))
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [numberofemployees] bigint NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'revenue' AND [system_type_id] IN (106, 108) AND [scale] < 4)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [revenue] decimal(38,4) NULL;
GO
IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(N'[dbo].[crm_account]') AND [name] = N'description' AND [max_length] <> -1)
    ALTER TABLE [dbo].[crm_account] ALTER COLUMN [description] nvarchar(max) NULL;
GO
