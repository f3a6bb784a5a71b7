ALTER TABLE "dbo"."crm_account"
	ADD COLUMN IF NOT EXISTS "revenue_base" numeric(38,4),
	ALTER COLUMN "name" TYPE varchar(160),
	ALTER COLUMN "entityimage_timestamp" TYPE bigint,
	ALTER COLUMN "revenue" TYPE numeric(38,2)
