WITH d AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) WITH ORDINALITY AS d(id, v, i)),
ok AS (SELECT d.* FROM d WHERE coalesce((SELECT x.versionnumber FROM "dbo"."crm_dataexport_tombstone" x WHERE x.tablename = $3 AND x.id = d.id), -1) < d.v),
gone AS (DELETE FROM "dbo"."crm_account" t USING ok WHERE t."id" = ANY($1::uuid[]) AND t."id" = ok.id AND t."versionnumber" < ok.v RETURNING t."id" AS id, t."sinkcreatedon" AS created)
SELECT ok.i, g.created FROM ok LEFT JOIN gone g ON g.id = ok.id
WHERE g.id IS NOT NULL OR NOT EXISTS (SELECT 1 FROM "dbo"."crm_account" t WHERE t."id" = ANY($1::uuid[]) AND t."id" = ok.id)
ORDER BY ok.i
