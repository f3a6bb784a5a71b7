package sync

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.* from the encoders")

// Messages outlive a deployment: an applier of the next version reads what
// the poller of this one enqueued (and units kept in Blob storage). These
// golden files fail when a field is renamed, dropped or retyped; a change
// to them is a format change to be made on purpose (with a version that
// still reads the old form), then written with -update.
func TestMessageFormatGolden(t *testing.T) {
	page := sampleMessage()
	page.ID, page.ProfileVersion, page.Kind = "p/account/0a1b2c3d/3.0", "6b86b273ff34fce1", KindInitial
	page.Schema = "1764700000123.0123456789abcdef"
	ref := page.envelope()
	ref.Claim, ref.Attempt = "p/account/0a1b2c3d/3-9f86d081884c7d65.json", 2
	// A backfill page: rows read again for added columns, written over a
	// stored row of the same version; never deletes.
	backfill := sampleMessage()
	backfill.ID, backfill.ProfileVersion, backfill.Kind = "p/account/b9f8e7d6c/1.0", "6b86b273ff34fce1", KindBackfill
	backfill.Schema, backfill.Page = "1764700000456.0123456789abcdef", 1
	backfill.Batch.Deletes, backfill.Batch.Overwrite = nil, true
	for _, tc := range []struct {
		file string
		m    Message
		unit bool // the binary form of a unit stored in Blob storage
	}{{"message_page.golden.json", page, false}, {"message_unit_reference.golden.json", ref, false}, {"message_backfill.golden.json", backfill, false},
		{"unit_page.golden.unit", page, true}, {"unit_backfill.golden.unit", backfill, true}} {
		body := append(tc.m.Encode(), '\n')
		if tc.unit {
			body = tc.m.EncodeUnit()
		}
		path := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run Golden -update writes it)", err)
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("%s changed:\n%s\nwant:\n%s", tc.file, body, want)
		}
		back, err := DecodeMessage(want)
		if err != nil {
			t.Fatal(err)
		}
		tc.m.Batch.Entity = tc.m.Entity
		if !reflect.DeepEqual(*back, tc.m) {
			t.Fatalf("decoding %s = %+v\nwant %+v", tc.file, *back, tc.m)
		}
	}
}
