WITH d AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS d(id, v)),
gone AS (DELETE FROM "dbo"."crm_account" t USING d WHERE t."id" = ANY($1::uuid[]) AND t."id" = d.id AND t."versionnumber" <= d.v RETURNING t."id" AS id),
raised AS (INSERT INTO "dbo"."crm_dataexport_tombstone" AS x (tablename, id, versionnumber, deletedon) SELECT $3, d.id, d.v, $4 FROM d
	ON CONFLICT (tablename, id) DO UPDATE SET versionnumber = EXCLUDED.versionnumber, deletedon = EXCLUDED.deletedon
	WHERE x.versionnumber < EXCLUDED.versionnumber RETURNING x.id AS id)
SELECT d.id::text, d.v, g.id IS NOT NULL, EXISTS (SELECT 1 FROM "dbo"."crm_account" t WHERE t."id" = ANY($1::uuid[]) AND t."id" = d.id)
FROM d LEFT JOIN gone g ON g.id = d.id LEFT JOIN raised r ON r.id = d.id
WHERE g.id IS NOT NULL OR r.id IS NOT NULL
