CREATE TABLE IF NOT EXISTS "main"."crm_GlobalOptionSetMetadata" (
	"OptionSetName" VARCHAR(64),
	"Option" INTEGER,
	"IsUserLocalizedLabel" BOOLEAN,
	"LocalizedLabelLanguageCode" INTEGER,
	"LocalizedLabel" VARCHAR(350)
);
CREATE TABLE IF NOT EXISTS "main"."crm_OptionSetMetadata" (
	"EntityName" VARCHAR(64),
	"OptionSetName" VARCHAR(64),
	"Option" INTEGER,
	"IsUserLocalizedLabel" BOOLEAN,
	"LocalizedLabelLanguageCode" INTEGER,
	"LocalizedLabel" VARCHAR(350)
);
CREATE TABLE IF NOT EXISTS "main"."crm_StateMetadata" (
	"EntityName" VARCHAR(64),
	"State" INTEGER,
	"IsUserLocalizedLabel" BOOLEAN,
	"LocalizedLabelLanguageCode" INTEGER,
	"LocalizedLabel" VARCHAR(350)
);
CREATE TABLE IF NOT EXISTS "main"."crm_StatusMetadata" (
	"EntityName" VARCHAR(64),
	"State" INTEGER,
	"Status" INTEGER,
	"IsUserLocalizedLabel" BOOLEAN,
	"LocalizedLabelLanguageCode" INTEGER,
	"LocalizedLabel" VARCHAR(350)
);
CREATE TABLE IF NOT EXISTS "main"."crm_TargetMetadata" (
	"EntityName" VARCHAR(64),
	"AttributeName" VARCHAR(64),
	"ReferencedEntity" VARCHAR(64),
	"ReferencedAttribute" VARCHAR(64)
);
CREATE TABLE IF NOT EXISTS "main"."crm_AttributeMetadata" (
	"Id" UUID_TEXT NOT NULL PRIMARY KEY,
	"EntityName" VARCHAR(64),
	"AttributeName" VARCHAR(64),
	"AttributeType" VARCHAR(64),
	"AttributeTypeCode" INTEGER,
	"Version" BIGINT,
	"Timestamp" DATETIME_TEXT,
	"MetadataId" VARCHAR(64),
	"Precision" INTEGER
)
