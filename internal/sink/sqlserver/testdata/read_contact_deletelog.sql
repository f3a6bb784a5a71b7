SELECT [Id], [versionnumber], [contactid], [fullname], [birthdate] FROM [sales].[contact] ORDER BY CONVERT(char(36), [Id]) COLLATE Latin1_General_BIN2;
