INSERT INTO "main"."crm_account" ("Id", "SinkCreatedOn", "SinkModifiedOn", "versionnumber", "accountid", "name", "description", "numberofemployees")
SELECT ?1, ?2, ?2, ?4, ?5, ?6, ?7, ?8
WHERE NOT EXISTS (SELECT 1 FROM "main"."crm_dataexport_tombstone" WHERE "TableName" = ?3 AND "Id" = ?1 AND "VersionNumber" >= ?4)
ON CONFLICT ("Id") DO UPDATE SET "SinkModifiedOn" = excluded."SinkModifiedOn", "versionnumber" = excluded."versionnumber", "accountid" = excluded."accountid", "name" = excluded."name", "description" = excluded."description", "numberofemployees" = excluded."numberofemployees"
WHERE "versionnumber" < excluded."versionnumber"
