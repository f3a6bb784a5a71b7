INSERT INTO "main"."crm_account" ("Id", "SinkCreatedOn", "SinkModifiedOn", "versionnumber", "accountid", "name", "description", "numberofemployees")
SELECT v.column1, ?, ?, v.column2, v.column3, v.column4, v.column5, v.column6 FROM (VALUES
(?, ?, ?, ?, ?, ?),
(?, ?, ?, ?, ?, ?)) AS v
WHERE NOT EXISTS (SELECT 1 FROM "main"."crm_dataexport_tombstone" x WHERE x."TableName" = ? AND x."Id" = v.column1 AND x."VersionNumber" >= v.column2)
ON CONFLICT ("Id") DO UPDATE SET "SinkModifiedOn" = excluded."SinkModifiedOn", "versionnumber" = excluded."versionnumber", "accountid" = excluded."accountid", "name" = excluded."name", "description" = excluded."description", "numberofemployees" = excluded."numberofemployees"
WHERE "versionnumber" <= excluded."versionnumber"
