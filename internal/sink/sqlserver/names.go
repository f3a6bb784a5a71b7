package sqlserver

import (
	"fmt"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// DefaultSchema is where objects go when no schema is configured, as in DES.
const DefaultSchema = "dbo"

// naming resolves every object name of one destination (schema + prefix).
type naming struct {
	schema string
	prefix string
	// labelView is the label views' name template (sink.Options.LabelView).
	labelView string
}

func newNaming(schemaName, prefix string) naming {
	if schemaName == "" {
		schemaName = DefaultSchema
	}
	return naming{schema: schemaName, prefix: prefix}
}

func (n naming) shared(base string) schema.TableName {
	return schema.Options{Schema: n.schema, Prefix: n.prefix}.TableName(base)
}

// tombstone and deleteLog are named as in every dialect (sink.Options).
func (n naming) tombstone() schema.TableName { return n.shared(sink.TombstoneTable) }
func (n naming) deleteLog() schema.TableName { return n.shared(sink.DeleteLogTable) }

// view is the label view of table t.
func (n naming) view(t schema.TableName) schema.TableName {
	return schema.LabelViewName(n.labelView, n.table(t))
}

// table fills in the default schema.
func (n naming) table(t schema.TableName) schema.TableName {
	if t.Schema == "" {
		t.Schema = n.schema
	}
	return t
}

// objects are the per-entity objects DES created next to the table: two
// user-defined table types and (ours) the two procedures that take them.
type objects struct {
	Table      schema.TableName
	Type       schema.TableName // <table>Type: Id, data columns, versionnumber
	IDType     schema.TableName // <table>IdType: Id, VersionNumber
	UpsertProc schema.TableName // <table>_Upsert @rows <table>Type READONLY
	DeleteProc schema.TableName // <table>_Delete @ids <table>IdType READONLY
}

func objectsOf(t schema.TableName) objects {
	at := func(suffix string) schema.TableName { return schema.TableName{Schema: t.Schema, Name: t.Name + suffix} }
	return objects{
		Table:      t,
		Type:       at("Type"),
		IDType:     at("IdType"),
		UpsertProc: at("_Upsert"),
		DeleteProc: at("_Delete"),
	}
}

// check validates every name so that generators can quote without errors.
func (o objects) check() error {
	for _, n := range []schema.TableName{o.Table, o.Type, o.IDType, o.UpsertProc, o.DeleteProc} {
		if err := checkName(n); err != nil {
			return err
		}
	}
	// The key constraint's name holds schema and table: long ones overflow it.
	if err := checkIdent(pkName(o.Table)); err != nil {
		return fmt.Errorf("primary key name of %s: %w", o.Table, err)
	}
	return nil
}

func checkName(n schema.TableName) error {
	if err := checkIdent(n.Schema); err != nil {
		return fmt.Errorf("schema of %s: %w", n, err)
	}
	if err := checkIdent(n.Name); err != nil {
		return err
	}
	return nil
}

// pkName is DES's primary-key constraint name, literally EPK[schema].[table].
func pkName(t schema.TableName) string { return "EPK[" + t.Schema + "].[" + t.Name + "]" }
