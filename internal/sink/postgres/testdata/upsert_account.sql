INSERT INTO "dbo"."crm_account" AS t ("sinkcreatedon", "sinkmodifiedon", "id", "versionnumber", "accountid", "name", "description", "numberofemployees")
SELECT $1, $1, s."id", s."versionnumber", s."accountid", s."name", s."description", s."numberofemployees" FROM "dataexport_stage_0123456789abcdef" s
WHERE coalesce((SELECT x.versionnumber FROM "dbo"."crm_dataexport_tombstone" x WHERE x.tablename = $2 AND x.id = s."id"), -1) < s."versionnumber"
ON CONFLICT ("id") DO UPDATE SET "sinkmodifiedon" = EXCLUDED."sinkmodifiedon", "versionnumber" = EXCLUDED."versionnumber", "accountid" = EXCLUDED."accountid", "name" = EXCLUDED."name", "description" = EXCLUDED."description", "numberofemployees" = EXCLUDED."numberofemployees"
WHERE t."versionnumber" < EXCLUDED."versionnumber"
