package sqlserver

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dataexport/dataexport/internal/schema"
)

// maxIdentifier is SQL Server's sysname length, in UTF-16 code units.
const maxIdentifier = 128

// ErrIdentifier is matched (errors.Is) by every IdentifierError.
var ErrIdentifier = errors.New("sqlserver: identifier cannot be quoted")

// IdentifierError names an identifier that no bracket quoting makes safe.
type IdentifierError struct {
	Name   string
	Reason string
}

func (e *IdentifierError) Error() string {
	return fmt.Sprintf("sqlserver: identifier %q %s", e.Name, e.Reason)
}

func (e *IdentifierError) Unwrap() error { return ErrIdentifier }

// checkIdent rejects what brackets cannot carry: the empty name, NUL and
// other control characters (SQL Server refuses them in delimited names),
// invalid UTF-8 and names longer than sysname. Everything else, ']' included,
// is quoted by qi.
func checkIdent(name string) error {
	switch {
	case name == "":
		return &IdentifierError{Name: name, Reason: "is empty"}
	case !utf8.ValidString(name):
		return &IdentifierError{Name: name, Reason: "is not valid UTF-8"}
	}
	n := 0
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == 0xfffe || r == 0xffff {
			return &IdentifierError{Name: name, Reason: fmt.Sprintf("contains control character %U", r)}
		}
		n += utf16.RuneLen(r)
	}
	if n > maxIdentifier {
		return &IdentifierError{Name: name, Reason: fmt.Sprintf("is longer than %d characters", maxIdentifier)}
	}
	return nil
}

// qi bracket-quotes one identifier, doubling every ']'. Callers have run
// checkIdent on name.
func qi(name string) string {
	return "[" + strings.ReplaceAll(name, "]", "]]") + "]"
}

// qn is the quoted two-part name [schema].[name].
func qn(n schema.TableName) string { return qi(n.Schema) + "." + qi(n.Name) }

// ql is an nvarchar literal: N'...' with every quote doubled.
func ql(s string) string { return "N'" + strings.ReplaceAll(s, "'", "''") + "'" }

// qobj is the literal that OBJECT_ID and COL_LENGTH expect: N'[schema].[name]'.
func qobj(n schema.TableName) string { return ql(qn(n)) }
