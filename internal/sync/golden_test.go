package sync

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the encoder")

// Messages outlive a deployment: an applier of the next version reads what
// the poller of this one enqueued (and units kept in Blob storage). These
// golden files fail when a field is renamed, dropped or retyped; a change
// to them is a format change to be made on purpose (with a version that
// still reads the old form), then written with -update.
func TestMessageFormatGolden(t *testing.T) {
	page := sampleMessage()
	page.ID, page.ProfileVersion, page.Kind = "p/account/0a1b2c3d/3.0", "6b86b273ff34fce1", KindInitial
	ref := page.envelope()
	ref.Claim, ref.Attempt = "p/account/0a1b2c3d/3-9f86d081884c7d65.json", 2
	for _, tc := range []struct {
		file string
		m    Message
	}{{"message_page.golden.json", page}, {"message_unit_reference.golden.json", ref}} {
		body := append(tc.m.Encode(), '\n')
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
