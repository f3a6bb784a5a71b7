CREATE TABLE IF NOT EXISTS "dbo"."crm_dataexport_keys" (
	tablename varchar(128) NOT NULL,
	scanid varchar(32) NOT NULL,
	id uuid NOT NULL,
	stagedon timestamp NOT NULL,
	PRIMARY KEY (tablename, scanid, id)
);
SELECT "id"::text, coalesce("versionnumber", 0) FROM "dbo"."crm_account";
INSERT INTO "dbo"."crm_dataexport_keys" (tablename, scanid, id, stagedon)
SELECT $1, $2, k.id, $4 FROM unnest($3::uuid[]) AS k(id)
ON CONFLICT (tablename, scanid, id) DO NOTHING;
WITH gone AS (DELETE FROM "dbo"."crm_account" t
	WHERE (t."versionnumber" <= $3 OR t."versionnumber" IS NULL)
	AND NOT EXISTS (SELECT 1 FROM "dbo"."crm_dataexport_keys" k WHERE k.tablename = $1 AND k.scanid = $2 AND k.id = t."id")
	RETURNING t."id" AS id),
raised AS (INSERT INTO "dbo"."crm_dataexport_tombstone" AS x (tablename, id, versionnumber, deletedon) SELECT $1, g.id, $3, $4 FROM gone g
	ON CONFLICT (tablename, id) DO UPDATE SET versionnumber = EXCLUDED.versionnumber, deletedon = EXCLUDED.deletedon
	WHERE x.versionnumber < EXCLUDED.versionnumber),
logged AS (INSERT INTO "dbo"."crm_deletelog" (id, entityname, recordid, sinkdeletetime, versionnumber)
	SELECT md5(random()::text || clock_timestamp()::text || g.id::text)::uuid, $5, g.id::text, $4, $3 FROM gone g)
SELECT count(*) FROM gone;
WITH gone AS (DELETE FROM "dbo"."crm_account" t
	WHERE (t."versionnumber" <= $3 OR t."versionnumber" IS NULL)
	AND NOT EXISTS (SELECT 1 FROM "dbo"."crm_dataexport_keys" k WHERE k.tablename = $1 AND k.scanid = $2 AND k.id = t."id")
	RETURNING t."id" AS id),
raised AS (INSERT INTO "dbo"."crm_dataexport_tombstone" AS x (tablename, id, versionnumber, deletedon) SELECT $1, g.id, $3, $4 FROM gone g
	ON CONFLICT (tablename, id) DO UPDATE SET versionnumber = EXCLUDED.versionnumber, deletedon = EXCLUDED.deletedon
	WHERE x.versionnumber < EXCLUDED.versionnumber)
SELECT count(*) FROM gone
