package schema

import (
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/dataverse"
)

// DefaultLabelView names an entity table's label view: {table} stands for
// the table's name.
const DefaultLabelView = "{table}_labels"

// LabelSuffix follows a choice column's name to name its label column
// (industrycode, industrycode_label).
const LabelSuffix = "_label"

// LabelView is the view of an entity table that shows every column of the
// table, each choice column (option set, state, status, two options,
// multi-select) followed by its label in one language. The labels are
// written into the view's definition, so the view is made again whenever
// they change (with the table and the metadata).
type LabelView struct {
	Name TableName
	// Labels are the choice columns' labels, by column name.
	Labels map[string]ColumnLabels
	// Language is the LCID the labels are in where the metadata has them
	// (0: the labels of the user the metadata was read as).
	Language int
}

// ColumnLabels are the labels of one choice column's values.
type ColumnLabels struct {
	Options []OptionLabel // in the option set's order
	// Multi: the column holds a comma-separated list of values; its label
	// is the list of their labels joined by "; " (as Dataverse formats
	// it), in option set order.
	Multi bool
	// Bool: the column is a two-option (bit/boolean) column; its options
	// are 0 (false) and 1 (true).
	Bool bool
}

// OptionLabel is one value and its label.
type OptionLabel struct {
	Value int
	Label string
}

// LabelViewName is the view name of table under the template (empty: the
// default): the template with {table} replaced, in table's schema.
func LabelViewName(template string, table TableName) TableName {
	if template == "" {
		template = DefaultLabelView
	}
	return TableName{Schema: table.Schema, Name: strings.ReplaceAll(template, "{table}", table.Name)}
}

// CheckLabelViewTemplate reports whether template makes view names from
// table names: {table} once, and otherwise letters, digits and '_'.
func CheckLabelViewTemplate(template string) error {
	if strings.Count(template, "{table}") != 1 {
		return &NameError{What: "label view", Name: template, Reason: "must contain {table} exactly once"}
	}
	rest := strings.Replace(template, "{table}", "", 1)
	if rest == "" {
		return &NameError{What: "label view", Name: template, Reason: "must add something to {table}, or the view would be named like its table"}
	}
	for _, c := range rest {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return &NameError{What: "label view", Name: template, Reason: "only letters, digits and '_' besides {table}"}
		}
	}
	return nil
}

// labelView is the label view of table t of e under o: nil when e has no
// choice column among t's columns. Column names that would collide with a
// label column (a column industrycode_label beside industrycode) leave
// that label out.
func labelView(e *dataverse.Entity, t Table, o Options) (*LabelView, error) {
	name := LabelViewName(o.LabelView, t.TableName)
	if err := CheckIdentifier("label view", name.Name); err != nil {
		return nil, fmt.Errorf("entity %s: %w", e.LogicalName, err)
	}
	cols := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		cols[strings.ToLower(c.Name)] = true
	}
	v := &LabelView{Name: name, Labels: map[string]ColumnLabels{}, Language: o.LabelLanguage}
	for _, f := range dataverse.Fields(e) {
		a := f.Attribute
		if !f.Selected() || a.OptionSet == nil || cols[strings.ToLower(f.Column.Name+LabelSuffix)] {
			continue
		}
		if err := CheckIdentifier("column", f.Column.Name+LabelSuffix); err != nil {
			continue // too long for a label column; the value stays in the view
		}
		var cl ColumnLabels
		switch a.Type {
		case dataverse.TypePicklist, dataverse.TypeState, dataverse.TypeStatus:
		case dataverse.TypeMultiSelectPicklist:
			cl.Multi = true
		case dataverse.TypeBoolean:
			cl.Bool = true
		default:
			continue
		}
		for _, o := range options(a.OptionSet) {
			if l, ok := labelIn(o, v.Language); ok {
				cl.Options = append(cl.Options, OptionLabel{Value: o.Value, Label: l})
			}
		}
		v.Labels[f.Column.Name] = cl
	}
	if len(v.Labels) == 0 {
		return nil, nil
	}
	return v, nil
}

// labelIn is o's label in language lang, else the user's label, else its
// first localized label.
func labelIn(o dataverse.Option, lang int) (string, bool) {
	if lang != 0 {
		for _, l := range o.Labels {
			if l.LanguageCode == lang {
				return l.Label, true
			}
		}
	}
	if o.UserLabel != nil {
		return o.UserLabel.Label, true
	}
	if len(o.Labels) > 0 {
		return o.Labels[0].Label, true
	}
	return "", false
}
