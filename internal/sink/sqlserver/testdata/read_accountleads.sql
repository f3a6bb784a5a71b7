SELECT [Id], [versionnumber], [accountleadid], [accountid], [leadid] FROM [dbo].[crm_accountleads] ORDER BY CONVERT(char(36), [Id]) COLLATE Latin1_General_BIN2;
