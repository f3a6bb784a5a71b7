package sink

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
)

// ViewItem is one column of a label view: a column of the table, or the
// label of the column before it (Labels set).
type ViewItem struct {
	Column string               // the table's column
	Labels *schema.ColumnLabels // non-nil: this item is Column's label
}

// Name is the item's column name in the view.
func (i ViewItem) Name() string {
	if i.Labels != nil {
		return i.Column + schema.LabelSuffix
	}
	return i.Column
}

// LabelViewItems is the select list of lv over a table whose columns are
// cols (every column, in table order): each column, each labelled one
// followed by its label. Labels of columns the table lacks are left out.
func LabelViewItems(cols []string, lv *schema.LabelView) []ViewItem {
	have := make(map[string]bool, len(cols))
	for _, c := range cols {
		have[strings.ToLower(c)] = true
	}
	out := make([]ViewItem, 0, len(cols)+len(lv.Labels))
	for _, c := range cols {
		out = append(out, ViewItem{Column: c})
		// A column of that name (a removed attribute's, kept) wins.
		if l, ok := lv.Labels[c]; ok && !have[strings.ToLower(c+schema.LabelSuffix)] {
			out = append(out, ViewItem{Column: c, Labels: &l})
		}
	}
	return out
}

// LabelSQL is how a dialect spells a label view's expressions.
type LabelSQL struct {
	Ident func(string) string // a quoted identifier
	Str   func(string) string // a string literal
	// True and False are the literals a two-option column holds.
	True, False string
	// Concat joins two string expressions.
	Concat string
	// Open, when set, starts a multi-select label's concatenation (a type
	// wide enough for the whole list).
	Open string
	// Rest is the expression of s without its first two characters, null
	// when nothing is left.
	Rest func(s string) string
}

// Select renders items as a select list.
func (d LabelSQL) Select(items []ViewItem) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteString(",\n\t")
		}
		if it.Labels == nil {
			b.WriteString(d.Ident(it.Column))
			continue
		}
		b.WriteString(d.label(d.Ident(it.Column), it.Labels))
		b.WriteString(" AS ")
		b.WriteString(d.Ident(it.Name()))
	}
	return b.String()
}

// label is the label expression of column col: a CASE over its values;
// for a multi-select column the labels of the values in the list, in
// option order, joined by "; " (as Dataverse's FormattedValue).
func (d LabelSQL) label(col string, l *schema.ColumnLabels) string {
	if len(l.Options) == 0 {
		return "NULL"
	}
	var b strings.Builder
	if l.Multi {
		// ',' || list-without-spaces || ',' contains ',<value>,' once per value.
		list := d.Str(",") + d.Concat + "REPLACE(" + col + ", " + d.Str(" ") + ", " + d.Str("") + ")" + d.Concat + d.Str(",")
		if d.Open != "" {
			b.WriteString(d.Open)
		}
		for i, o := range l.Options {
			if i > 0 || d.Open != "" {
				b.WriteString(" " + d.Concat + " ")
			}
			fmt.Fprintf(&b, "CASE WHEN %s LIKE %s THEN %s ELSE %s END", list, d.Str(fmt.Sprintf("%%,%d,%%", o.Value)), d.Str("; "+o.Label), d.Str(""))
		}
		return d.Rest(b.String())
	}
	b.WriteString("CASE ")
	b.WriteString(col)
	for _, o := range l.Options {
		v := strconv.Itoa(o.Value)
		if l.Bool {
			v = d.False
			if o.Value != 0 {
				v = d.True
			}
		}
		fmt.Fprintf(&b, " WHEN %s THEN %s", v, d.Str(o.Label))
	}
	b.WriteString(" END")
	return b.String()
}
