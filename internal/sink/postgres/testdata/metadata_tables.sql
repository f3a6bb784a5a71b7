CREATE TABLE IF NOT EXISTS "dbo"."crm_globaloptionsetmetadata" (
	"optionsetname" varchar(64),
	"option" integer,
	"isuserlocalizedlabel" boolean,
	"localizedlabellanguagecode" integer,
	"localizedlabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_optionsetmetadata" (
	"entityname" varchar(64),
	"optionsetname" varchar(64),
	"option" integer,
	"isuserlocalizedlabel" boolean,
	"localizedlabellanguagecode" integer,
	"localizedlabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_statemetadata" (
	"entityname" varchar(64),
	"state" integer,
	"isuserlocalizedlabel" boolean,
	"localizedlabellanguagecode" integer,
	"localizedlabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_statusmetadata" (
	"entityname" varchar(64),
	"state" integer,
	"status" integer,
	"isuserlocalizedlabel" boolean,
	"localizedlabellanguagecode" integer,
	"localizedlabel" varchar(350)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_targetmetadata" (
	"entityname" varchar(64),
	"attributename" varchar(64),
	"referencedentity" varchar(64),
	"referencedattribute" varchar(64)
);
CREATE TABLE IF NOT EXISTS "dbo"."crm_attributemetadata" (
	"id" uuid NOT NULL PRIMARY KEY,
	"entityname" varchar(64),
	"attributename" varchar(64),
	"attributetype" varchar(64),
	"attributetypecode" integer,
	"version" bigint,
	"timestamp" timestamp,
	"metadataid" varchar(64),
	"precision" integer
)
