package schema

import (
	"errors"
	"fmt"

	"github.com/dataexport/dataexport/internal/record"
)

// ErrIncompatibleChange is matched (errors.Is) by every IncompatibleChangeError.
var ErrIncompatibleChange = errors.New("incompatible column change")

// IncompatibleChangeError says that a column's type changed in a way that
// cannot be applied in place (e.g. string to int). The caller marks the
// entity for re-baseline: drop the table and read the entity again.
type IncompatibleChangeError struct {
	Table  TableName
	Column string
	Old    ColumnType
	New    ColumnType
}

func (e *IncompatibleChangeError) Error() string {
	return fmt.Sprintf("table %s column %s: cannot change %s to %s in place", e.Table, e.Column, e.Old, e.New)
}

func (e *IncompatibleChangeError) Unwrap() error { return ErrIncompatibleChange }

// Widen is a column whose type grows from From to To.
type Widen struct {
	Column string
	From   ColumnType
	To     ColumnType
}

// Plan is what EnsureTable must do to an existing table. Nothing is ever
// dropped or narrowed: removed attributes keep their columns (DES did too).
type Plan struct {
	Add   []Column
	Widen []Widen
}

// Empty reports whether the table already matches.
func (p Plan) Empty() bool { return len(p.Add) == 0 && len(p.Widen) == 0 }

// PlanChanges compares the existing data columns of a table with the wanted
// ones. Missing columns are added; a longer string, an int becoming bigint or
// a decimal with more fractional digits is widened (decimals keep precision
// 38); narrower wanted types keep the existing column. A different kind is an
// *IncompatibleChangeError, except Date and DateTime, stored alike.
func PlanChanges(existing []Column, want Table) (Plan, error) {
	have := make(map[string]ColumnType, len(existing))
	for _, c := range existing {
		have[c.Name] = c.Type
	}
	var p Plan
	for _, c := range want.Columns {
		old, ok := have[c.Name]
		if !ok {
			p.Add = append(p.Add, c)
			continue
		}
		if sameStorage(old.Kind, c.Type.Kind) {
			if to, ok := widened(old, c.Type); ok {
				p.Widen = append(p.Widen, Widen{Column: c.Name, From: old, To: to})
			}
			continue
		}
		return Plan{}, &IncompatibleChangeError{Table: want.TableName, Column: c.Name, Old: old, New: c.Type}
	}
	return p, nil
}

func sameStorage(a, b record.Kind) bool {
	dt := func(k record.Kind) bool { return k == record.DateTime || k == record.Date }
	return a == b || dt(a) && dt(b)
}

// widened is the type an existing column must take to hold want's values,
// and whether that differs from old.
func widened(old, want ColumnType) (ColumnType, bool) {
	switch old.Kind {
	case record.String:
		if old.Length != 0 && (want.Length == 0 || want.Length > old.Length) {
			return want, true
		}
	case record.Int:
		if want.IsBigInt() && !old.IsBigInt() {
			return want, true
		}
	case record.Decimal:
		if want.Scale > old.Scale {
			return DecimalType(want.Scale), true
		}
	}
	return old, false
}
