package sinktest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

func testMetadata(t *testing.T, open Opener) {
	s := open(t, sink.Options{Prefix: "crm"})
	var m sink.MetadataWriter = s
	ctx := t.Context()
	if err := m.EnsureMetadataTables(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.EnsureMetadataTables(ctx); err != nil {
		t.Fatalf("second EnsureMetadataTables must be a no-op: %v", err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	account, contact := Account("account"), Account("contact")
	if err := m.ReplaceMetadata(ctx, schema.Metadata([]*dataverse.Entity{account, contact}, now)); err != nil {
		t.Fatal(err)
	}
	assertMetadata(t, m, schema.Metadata([]*dataverse.Entity{account, contact}, now))

	// The account's metadata changes: an option is relabelled, one removed,
	// an attribute added. The contact's rows stay as they were.
	changed := evolved("account", func(e *dataverse.Entity) {
		setAttr(e, "industrycode", func(a *dataverse.Attribute) {
			a.OptionSet = &dataverse.OptionSet{Options: []dataverse.Option{{Value: 1, Labels: en("Accounting & Audit")}}}
		})
		e.Attributes = append(e.Attributes, attr("new_rating", dataverse.TypeDecimal, precision(3)))
	})
	later := now.Add(time.Hour)
	if err := m.ReplaceMetadata(ctx, schema.Metadata([]*dataverse.Entity{changed}, later)); err != nil {
		t.Fatal(err)
	}
	want := schema.Metadata([]*dataverse.Entity{changed, contact}, now)
	for i := range want {
		for _, r := range want[i].Rows {
			if want[i].Table.Name == schema.AttributeMetadata && r[1].S == "account" {
				r[6] = record.DateTimeValue(later)
			}
		}
	}
	assertMetadata(t, m, want)
}

func assertMetadata(t *testing.T, m sink.MetadataWriter, want []schema.MetadataRows) {
	t.Helper()
	if len(want) != len(schema.MetadataTables()) {
		t.Fatalf("%d metadata sets, want one per table", len(want))
	}
	for _, set := range want {
		got, err := m.ReadMetadata(t.Context(), set.Table.Name)
		if err != nil {
			t.Fatal(err)
		}
		g, w := renderRows(got), renderRows(set.Rows)
		if !slices.Equal(g, w) {
			t.Errorf("%s:\n got %d rows:\n  %s\nwant %d rows:\n  %s", set.Table.Name, len(g), strings.Join(g, "\n  "), len(w), strings.Join(w, "\n  "))
		}
	}
}

// renderRows renders rows as sorted text, so dialects may order as they like.
func renderRows(rows [][]record.Value) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		parts := make([]string, len(r))
		for j, v := range r {
			parts[j] = fmt.Sprintf("%s:%s", v.Kind, v)
		}
		out[i] = strings.Join(parts, " | ")
	}
	slices.Sort(out)
	return out
}

// testMetadataConcurrent: two pollers write the same entity's metadata at
// once (the poller may run twice); both succeed and the tables hold the rows
// once.
func testMetadataConcurrent(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	var m sink.MetadataWriter = s
	ctx := t.Context()
	if err := m.EnsureMetadataTables(ctx); err != nil {
		t.Fatal(err)
	}
	rows := schema.Metadata([]*dataverse.Entity{Account("account")}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for round := range 5 {
		errs := make(chan error, 4)
		for range 4 {
			go func() { errs <- m.ReplaceMetadata(ctx, rows) }()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: concurrent ReplaceMetadata: %v", round, err)
			}
		}
	}
	assertMetadata(t, m, rows)
}
