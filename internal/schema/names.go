package schema

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxIdentifierLength is the longest identifier accepted: PostgreSQL's limit
// (63 bytes), the tightest of the dialects. Longer names would be truncated
// silently there, so two columns could collide.
const MaxIdentifierLength = 63

// MaxPrefixLength is one less than DES's bound: the prefix must be "less than
// 15 characters".
const MaxPrefixLength = 14

// ErrInvalidName is matched (errors.Is) by every NameError.
var ErrInvalidName = errors.New("invalid name")

// NameError names the identifier that cannot be used and why. It is returned
// before any SQL is built from the name.
type NameError struct {
	What   string // "schema", "prefix", "table", "column"
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid %s name %q: %s", e.What, e.Name, e.Reason)
}

func (e *NameError) Unwrap() error { return ErrInvalidName }

var (
	alnumRe = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Options says where an entity's table goes.
type Options struct {
	// Schema is the destination schema; empty means the dialect's default
	// (dbo, public, main), resolved by the sink.
	Schema string
	// Prefix, when set, makes table names <Prefix>_<logicalname>.
	Prefix string
	// LabelView names each entity table's label view ({table} stands for
	// the table name); empty is DefaultLabelView.
	LabelView string
	// LabelLanguage is the LCID of the label views' labels; 0 takes the
	// labels of the user the metadata was read as.
	LabelLanguage int
}

// Validate checks Schema and Prefix as DES did: letters and digits only, the
// prefix shorter than 15 characters.
func (o Options) Validate() error {
	if o.Schema != "" {
		if !alnumRe.MatchString(o.Schema) {
			return &NameError{What: "schema", Name: o.Schema, Reason: "only letters and digits are allowed"}
		}
		if len(o.Schema) > MaxIdentifierLength {
			return &NameError{What: "schema", Name: o.Schema, Reason: fmt.Sprintf("longer than %d characters", MaxIdentifierLength)}
		}
	}
	if o.LabelView != "" {
		if err := CheckLabelViewTemplate(o.LabelView); err != nil {
			return err
		}
	}
	if o.Prefix != "" {
		if !alnumRe.MatchString(o.Prefix) {
			return &NameError{What: "prefix", Name: o.Prefix, Reason: "only letters and digits are allowed"}
		}
		if len(o.Prefix) > MaxPrefixLength {
			return &NameError{What: "prefix", Name: o.Prefix, Reason: fmt.Sprintf("must be fewer than %d characters", MaxPrefixLength+1)}
		}
	}
	return nil
}

// Name is the table name of a logical name under o: <prefix>_<name> or <name>.
// It does not validate; Map and CheckIdentifier do.
func (o Options) Name(logicalName string) string {
	if o.Prefix == "" {
		return logicalName
	}
	return o.Prefix + "_" + logicalName
}

// TableName is the schema-qualified table name of a logical name under o.
func (o Options) TableName(logicalName string) TableName {
	return TableName{Schema: o.Schema, Name: o.Name(logicalName)}
}

// CheckIdentifier reports whether name can be used, quoted, as a table or
// column name in every dialect: a letter or underscore, then letters, digits
// or underscores, at most MaxIdentifierLength long. Quoting still happens;
// this keeps names portable and free of surprises.
func CheckIdentifier(what, name string) error {
	switch {
	case name == "":
		return &NameError{What: what, Name: name, Reason: "is empty"}
	case len(name) > MaxIdentifierLength:
		return &NameError{What: what, Name: name, Reason: fmt.Sprintf("longer than %d characters", MaxIdentifierLength)}
	case !identRe.MatchString(name):
		return &NameError{What: what, Name: name, Reason: "only letters, digits and '_' are allowed, not starting with a digit"}
	}
	return nil
}

// Check validates every name of t: schema, table and columns, and that no
// data column collides (case-insensitively, as SQL Server and SQLite compare)
// with another or with a system column.
func (t *Table) Check() error {
	if err := (Options{Schema: t.Schema}).Validate(); err != nil {
		return err
	}
	if err := CheckIdentifier("table", t.Name); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range SystemColumns {
		seen[strings.ToLower(c.Name)] = true
	}
	for _, c := range t.Columns {
		if err := CheckIdentifier("column", c.Name); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		k := strings.ToLower(c.Name)
		if seen[k] {
			return fmt.Errorf("table %s: %w", t.Name, &NameError{What: "column", Name: c.Name, Reason: "collides with another column or a system column"})
		}
		seen[k] = true
	}
	return nil
}

// String renders the name for messages: schema.name, or name without a schema.
func (n TableName) String() string {
	if n.Schema == "" {
		return n.Name
	}
	return n.Schema + "." + n.Name
}
