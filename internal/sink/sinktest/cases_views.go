package sinktest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// ViewReader reads a label view: the value of one column per row id.
type ViewReader interface {
	ViewColumn(ctx context.Context, view schema.TableName, column string) (map[string]*string, error)
}

// testLabelView: the label view shows each choice column's label beside it
// (a multi-select's as a list), follows a relabelled option and a new
// language when the table is ensured again, survives a column drop and
// goes with its table.
func testLabelView(t *testing.T, open Opener) {
	s := open(t, sink.Options{Prefix: "crm", LabelView: "v_{table}"})
	ctx := t.Context()
	f := addFixture(t, s, Account("account"))
	if f.table.Labels == nil || f.table.Labels.Name.Name != "v_crm_account" {
		t.Fatalf("label view %+v, want v_crm_account", f.table.Labels)
	}
	recs := f.recs(rv{1, 1}, rv{2, 1}, rv{3, 1}, rv{4, 1}, rv{9, 1})
	for i := range recs {
		// Values the options have, beside the fixture's out-of-set ones.
		set(f, &recs[i], "industrycode", record.IntValue(int64(1+i%3)))
		set(f, &recs[i], "categories", record.StringValue([]string{"1,3,5", "5,1", "", "3", "7"}[i]))
	}
	f.apply(t, f.batch(recs))
	checkLabels(t, s, f, recs)

	// Relabelled, and the labels of another language asked for.
	relabelled := Account("account")
	relabelled.Attribute("industrycode").OptionSet.Options[1].Labels[0].Label = "Landwirtschaft"
	relabelled.Attribute("industrycode").OptionSet.Options[1].Labels[0].LanguageCode = 1031
	o := s.Options().TableOptions()
	o.LabelLanguage = 1031
	tbl, err := schema.Map(relabelled, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	f.table = tbl
	got := checkLabels(t, s, f, recs)
	if !slices.Contains(got, "Buchhaltung") || !slices.Contains(got, "Landwirtschaft") {
		t.Errorf("industrycode labels after the relabel and in German: %q", got)
	}

	// A dropped column leaves the view in place, without it.
	wide := addFixture(t, s, evolved("account", func(e *dataverse.Entity) {
		e.Attributes = append(e.Attributes, attr("new_gone", dataverse.TypeString, maxLen(20)))
	}))
	if _, err := s.ViewColumn(ctx, wide.table.Labels.Name, "new_gone"); err != nil {
		t.Fatalf("the view lacks a new column: %v", err)
	}
	if err := s.DropColumns(ctx, f.table, []string{"new_gone"}); err != nil {
		t.Fatal(err)
	}
	checkLabels(t, s, f, recs)

	if err := s.DropTable(ctx, f.table.TableName); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ViewColumn(ctx, f.table.Labels.Name, "industrycode_label"); err == nil {
		t.Error("the label view outlived its table")
	}

	// Another entity's table under the view's name: the view is not made
	// (a warning), and neither ensuring nor dropping the table touches it.
	s2 := open(t, sink.Options{})
	other := addFixture(t, s2, Account("account_labels"))
	other.apply(t, other.batch(other.recs(rv{1, 1})))
	acc := addFixture(t, s2, Account("account"))
	if acc.table.Labels.Name.Name != "account_labels" {
		t.Fatalf("view %v", acc.table.Labels.Name)
	}
	if err := s2.DropTable(ctx, acc.table.TableName); err != nil {
		t.Fatalf("DropTable beside a table named like its view: %v", err)
	}
	other.assertRows(t, other.recs(rv{1, 1}))
}

// set replaces one column's value in r.
func set(f *fixture, r *record.Record, column string, v record.Value) {
	r.Values = slices.Clone(r.Values)
	for i, c := range f.cols {
		if c.Name == column {
			r.Values[i] = v
		}
	}
}

// checkLabels compares every label column of f's view with the labels
// f.table.Labels gives the stored values, and returns the labels seen.
func checkLabels(t *testing.T, s Target, f *fixture, recs []record.Record) []string {
	t.Helper()
	lv := f.table.Labels
	var seen []string
	for col, cl := range lv.Labels {
		got, err := s.ViewColumn(t.Context(), lv.Name, col+schema.LabelSuffix)
		if err != nil {
			t.Fatalf("%s.%s: %v", lv.Name, col+schema.LabelSuffix, err)
		}
		j := slices.IndexFunc(f.cols, func(c record.Column) bool { return c.Name == col })
		for _, r := range recs {
			want := wantLabel(cl, canonical(s, r.Values[j]))
			g, ok := got[r.ID]
			if !ok {
				t.Fatalf("%s: no row %s", lv.Name, r.ID)
			}
			if (g == nil) != (want == nil) || g != nil && *g != *want {
				t.Errorf("%s %s %s = %s, want %s", lv.Name, r.ID, col+schema.LabelSuffix, show(g), show(want))
			}
			if g != nil {
				seen = append(seen, *g)
			}
		}
	}
	return seen
}

// wantLabel is the label of v under cl, computed in Go.
func wantLabel(cl schema.ColumnLabels, v record.Value) *string {
	if v.IsNull() {
		return nil
	}
	of := func(n int) (string, bool) {
		for _, o := range cl.Options {
			if o.Value == n {
				return o.Label, true
			}
		}
		return "", false
	}
	switch {
	case cl.Bool:
		n := 0
		if v.Bool() {
			n = 1
		}
		if l, ok := of(n); ok {
			return &l
		}
	case cl.Multi:
		have := map[string]bool{}
		for _, p := range strings.Split(strings.ReplaceAll(v.S, " ", ""), ",") {
			have[p] = true
		}
		var ls []string
		for _, o := range cl.Options {
			if have[strconv.Itoa(o.Value)] {
				ls = append(ls, o.Label)
			}
		}
		if len(ls) > 0 {
			l := strings.Join(ls, "; ")
			return &l
		}
	default:
		if l, ok := of(int(v.I)); ok {
			return &l
		}
	}
	return nil
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}
