WITH d AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS d(id, v)),
gone AS (DELETE FROM "dbo"."crm_account" t USING d WHERE t."Id" = d.id AND t."versionnumber" <= d.v RETURNING t."Id" AS id),
raised AS (INSERT INTO "dbo"."crm_dataexport_tombstone" AS x ("TableName", "Id", "VersionNumber", "DeletedOn") SELECT $3, d.id, d.v, $4 FROM d
	ON CONFLICT ("TableName", "Id") DO UPDATE SET "VersionNumber" = EXCLUDED."VersionNumber", "DeletedOn" = EXCLUDED."DeletedOn"
	WHERE x."VersionNumber" < EXCLUDED."VersionNumber" RETURNING x."Id" AS id)
SELECT d.id::text, d.v, g.id IS NOT NULL, EXISTS (SELECT 1 FROM "dbo"."crm_account" t WHERE t."Id" = d.id)
FROM d LEFT JOIN gone g ON g.id = d.id LEFT JOIN raised r ON r.id = d.id
WHERE g.id IS NOT NULL OR r.id IS NOT NULL
