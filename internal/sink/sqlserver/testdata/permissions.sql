SELECT [p].[scope], [p].[permission_name]
FROM (VALUES
    (0, N'DATABASE', N'CREATE TABLE'),
    (1, N'DATABASE', N'CREATE TYPE'),
    (2, N'DATABASE', N'CREATE VIEW'),
    (3, N'DATABASE', N'CREATE PROCEDURE'),
    (4, N'DATABASE', N'ALTER ANY USER'),
    (5, N'DATABASE', N'VIEW DATABASE STATE'),
    (6, N'SCHEMA', N'ALTER'),
    (7, N'SCHEMA', N'INSERT'),
    (8, N'SCHEMA', N'DELETE'),
    (9, N'SCHEMA', N'SELECT'),
    (10, N'SCHEMA', N'UPDATE'),
    (11, N'SCHEMA', N'EXECUTE'),
    (12, N'SCHEMA', N'REFERENCES')
) AS [p]([ord], [scope], [permission_name])
WHERE ISNULL(CASE [p].[scope]
    WHEN N'DATABASE' THEN HAS_PERMS_BY_NAME(NULL, N'DATABASE', [p].[permission_name])
    ELSE HAS_PERMS_BY_NAME(N'dbo', N'SCHEMA', [p].[permission_name]) END, 0) = 0
ORDER BY [p].[ord];
GO
