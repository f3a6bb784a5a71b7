-- The layout the previous version (main before lowercase names) created
-- for prefix CRM: its statements as it sent them, schema {schema}.
CREATE TABLE IF NOT EXISTS {schema}."CRM_account" (
	"Id" uuid NOT NULL PRIMARY KEY,
	"SinkCreatedOn" timestamp,
	"SinkModifiedOn" timestamp,
	"versionnumber" bigint,
	"accountid" uuid,
	"name" varchar(160),
	"description" text,
	"numberofemployees" integer,
	"entityimage_timestamp" bigint,
	"exchangerate" numeric(38,10),
	"address1_latitude" numeric(38,5),
	"revenue" numeric(38,2),
	"createdon" timestamp,
	"birthday" timestamp,
	"donotemail" boolean,
	"industrycode" integer,
	"categories" text,
	"statecode" integer,
	"statuscode" integer,
	"primarycontactid" uuid,
	"primarycontactid_entitytype" varchar(128),
	"parentcustomerid" uuid,
	"parentcustomerid_entitytype" varchar(128),
	"ownerid" uuid,
	"ownerid_entitytype" varchar(128),
	"owneridtype" varchar(4000),
	"longtext" varchar(4000)
)
;
CREATE TABLE IF NOT EXISTS {schema}."CRM_dataexport_tombstone" (
	"TableName" varchar(128) NOT NULL,
	"Id" uuid NOT NULL,
	"VersionNumber" bigint NOT NULL,
	"DeletedOn" timestamp NOT NULL,
	PRIMARY KEY ("TableName", "Id")
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_DeleteLog" (
	"Id" uuid NOT NULL PRIMARY KEY,
	"EntityName" varchar(64),
	"RecordId" varchar(64),
	"SinkDeleteTime" timestamp,
	"VersionNumber" bigint
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_GlobalOptionSetMetadata" (
	"OptionSetName" varchar(64),
	"Option" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_OptionSetMetadata" (
	"EntityName" varchar(64),
	"OptionSetName" varchar(64),
	"Option" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_StateMetadata" (
	"EntityName" varchar(64),
	"State" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_StatusMetadata" (
	"EntityName" varchar(64),
	"State" integer,
	"Status" integer,
	"IsUserLocalizedLabel" boolean,
	"LocalizedLabelLanguageCode" integer,
	"LocalizedLabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_TargetMetadata" (
	"EntityName" varchar(64),
	"AttributeName" varchar(64),
	"ReferencedEntity" varchar(64),
	"ReferencedAttribute" varchar(64)
);
CREATE TABLE IF NOT EXISTS {schema}."CRM_AttributeMetadata" (
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
