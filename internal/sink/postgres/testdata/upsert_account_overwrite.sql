INSERT INTO "dbo"."crm_account" AS t ("SinkCreatedOn", "SinkModifiedOn", "Id", "versionnumber", "accountid", "name", "description", "numberofemployees")
SELECT $1, $1, s."Id", s."versionnumber", s."accountid", s."name", s."description", s."numberofemployees" FROM "dataexport_stage_0123456789abcdef" s
WHERE coalesce((SELECT x."VersionNumber" FROM "dbo"."crm_dataexport_tombstone" x WHERE x."TableName" = $2 AND x."Id" = s."Id"), -1) < s."versionnumber"
ON CONFLICT ("Id") DO UPDATE SET "SinkModifiedOn" = EXCLUDED."SinkModifiedOn", "versionnumber" = EXCLUDED."versionnumber", "accountid" = EXCLUDED."accountid", "name" = EXCLUDED."name", "description" = EXCLUDED."description", "numberofemployees" = EXCLUDED."numberofemployees"
WHERE t."versionnumber" <= EXCLUDED."versionnumber"
