CREATE TABLE IF NOT EXISTS "dbo"."crm_dataexport_keys" (
	"TableName" varchar(128) NOT NULL,
	"ScanId" varchar(32) NOT NULL,
	"Id" uuid NOT NULL,
	"StagedOn" timestamp NOT NULL,
	PRIMARY KEY ("TableName", "ScanId", "Id")
);
SELECT "Id"::text, coalesce("versionnumber", 0) FROM "dbo"."crm_account";
INSERT INTO "dbo"."crm_dataexport_keys" ("TableName", "ScanId", "Id", "StagedOn")
SELECT $1, $2, k.id, $4 FROM unnest($3::uuid[]) AS k(id)
ON CONFLICT ("TableName", "ScanId", "Id") DO NOTHING;
WITH gone AS (DELETE FROM "dbo"."crm_account" t
	WHERE (t."versionnumber" <= $3 OR t."versionnumber" IS NULL)
	AND NOT EXISTS (SELECT 1 FROM "dbo"."crm_dataexport_keys" k WHERE k."TableName" = $1 AND k."ScanId" = $2 AND k."Id" = t."Id")
	RETURNING t."Id" AS id),
raised AS (INSERT INTO "dbo"."crm_dataexport_tombstone" AS x ("TableName", "Id", "VersionNumber", "DeletedOn") SELECT $1, g.id, $3, $4 FROM gone g
	ON CONFLICT ("TableName", "Id") DO UPDATE SET "VersionNumber" = EXCLUDED."VersionNumber", "DeletedOn" = EXCLUDED."DeletedOn"
	WHERE x."VersionNumber" < EXCLUDED."VersionNumber"),
logged AS (INSERT INTO "dbo"."crm_DeleteLog" ("Id", "EntityName", "RecordId", "SinkDeleteTime", "VersionNumber")
	SELECT md5(random()::text || clock_timestamp()::text || g.id::text)::uuid, $5, g.id::text, $4, $3 FROM gone g)
SELECT count(*) FROM gone;
WITH gone AS (DELETE FROM "dbo"."crm_account" t
	WHERE (t."versionnumber" <= $3 OR t."versionnumber" IS NULL)
	AND NOT EXISTS (SELECT 1 FROM "dbo"."crm_dataexport_keys" k WHERE k."TableName" = $1 AND k."ScanId" = $2 AND k."Id" = t."Id")
	RETURNING t."Id" AS id),
raised AS (INSERT INTO "dbo"."crm_dataexport_tombstone" AS x ("TableName", "Id", "VersionNumber", "DeletedOn") SELECT $1, g.id, $3, $4 FROM gone g
	ON CONFLICT ("TableName", "Id") DO UPDATE SET "VersionNumber" = EXCLUDED."VersionNumber", "DeletedOn" = EXCLUDED."DeletedOn"
	WHERE x."VersionNumber" < EXCLUDED."VersionNumber")
SELECT count(*) FROM gone
