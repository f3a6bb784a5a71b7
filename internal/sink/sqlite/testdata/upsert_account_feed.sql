CREATE VIRTUAL TABLE IF NOT EXISTS temp."dataexport_rows_6" USING dataexport_rows(6);
INSERT INTO "main"."crm_account" ("Id", "SinkCreatedOn", "SinkModifiedOn", "versionnumber", "accountid", "name", "description", "numberofemployees")
SELECT v.c0, ?, ?, v.c1, v.c2, v.c3, v.c4, v.c5 FROM temp."dataexport_rows_6" AS v
WHERE v.h = ? AND NOT EXISTS (SELECT 1 FROM "main"."crm_dataexport_tombstone" x WHERE x."TableName" = ? AND x."Id" = v.c0 AND x."VersionNumber" >= v.c1)
ON CONFLICT ("Id") DO UPDATE SET "SinkModifiedOn" = excluded."SinkModifiedOn", "versionnumber" = excluded."versionnumber", "accountid" = excluded."accountid", "name" = excluded."name", "description" = excluded."description", "numberofemployees" = excluded."numberofemployees"
WHERE "versionnumber" < excluded."versionnumber"
