package dataverse_test

import (
	"context"
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/record"
)

// Metadata changed in the org shows as a new fingerprint and a Diff naming
// each change; reads with the new definition carry the new column.
func TestEmuChangedMetadata(t *testing.T) {
	emu, c := emuOrg(t, dvemu.Options{Records: 4, RandSeed: 2}, nil)
	ctx := context.Background()
	before, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	if dataverse.Fingerprint(before) != dataverse.Fingerprint(again) || len(dataverse.Diff(before, again)) != 0 {
		t.Fatal("unchanged metadata reads as changed")
	}
	pages := readAll(t, c.NewChangesPager(before, nil))
	link := pages[len(pages)-1].DeltaLink
	mv := pages[0].MetadataVersion
	if mv == "" {
		t.Error("no globalmetadataversion annotation on the page")
	}

	if err := emu.AddAttribute("account", dvemu.Attribute{LogicalName: "new_score", Type: dvemu.Integer, MinValue: 0, MaxValue: 100}); err != nil {
		t.Fatal(err)
	}
	if err := emu.WidenString("account", "name", 250); err != nil {
		t.Fatal(err)
	}
	if err := emu.AddOption("account", "industrycode", 99, "Space Tourism", nil); err != nil {
		t.Fatal(err)
	}
	after, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	if dataverse.Fingerprint(before) == dataverse.Fingerprint(after) {
		t.Error("fingerprint did not change")
	}
	var got []string
	for _, ch := range dataverse.Diff(before, after) {
		got = append(got, ch.String())
	}
	want := []string{
		"string-widened name: 160 -> 250",
		"option-added industrycode option 99:  -> Space Tourism",
		"attribute-added new_score:  -> IntegerType",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff =\n%q\nwant\n%q", got, want)
	}

	ids := emu.IDs("account")
	if err := emu.Update("account", ids[0], map[string]any{"new_score": 42}); err != nil {
		t.Fatal(err)
	}
	// The stored deltaLink selects the old columns; the new definition's
	// initial read has the new one. Both read cleanly.
	delta := readAll(t, c.NewChangesPager(before, &dataverse.ChangesOptions{Link: link}))
	if delta[0].MetadataVersion == mv {
		t.Errorf("globalmetadataversion %q unchanged after schema changes", mv)
	}
	if n := len(delta[0].Upserts); n != 1 {
		t.Errorf("delta with the old definition: %d upserts, want 1", n)
	}
	col := -1
	for i, f := range dataverse.Fields(after) {
		if f.Column.Name == "new_score" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("new_score not among the fields")
	}
	for _, pg := range readAll(t, c.NewChangesPager(after, nil)) {
		for _, r := range pg.Upserts {
			want := record.NullValue()
			if r.ID == ids[0] {
				want = record.IntValue(42)
			}
			if !r.Values[col].Equal(want) {
				t.Errorf("%s new_score = %v, want %v", r.ID, r.Values[col], want)
			}
		}
	}
}
