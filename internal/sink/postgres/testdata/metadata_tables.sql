CREATE TABLE IF NOT EXISTS "dbo"."crm_GlobalOptionSetMetadata" (
	"OptionSetName" varchar(64),
	"Option" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_OptionSetMetadata" (
	"EntityName" varchar(64),
	"OptionSetName" varchar(64),
	"Option" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_StateMetadata" (
	"EntityName" varchar(64),
	"State" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_StatusMetadata" (
	"EntityName" varchar(64),
	"State" integer,
	"Status" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_TargetMetadata" (
	"EntityName" varchar(64),
	"AttributeName" varchar(64),
	"ReferencedEntity" varchar(64),
	"ReferencedAttribute" varchar(64)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_AttributeMetadata" (
	"Id" uuid NOT NULL PRIMARY KEY,
	"EntityName" varchar(64),
	"AttributeName" varchar(64),
	"AttributeType" varchar(64),
	"AttributeTypeCode" integer,
	"Version" bigint,
	"Timestamp" timestamp,
	"MetadataId" varchar(64),
	"Precision" integer
)
