package failures

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// storeAt is a store over c with the same container prefix as s and its
// own clock: failures written through it are dated by that clock.
func storeAt(t *testing.T, s *Store, c *azblob.Client, now time.Time) *Store {
	t.Helper()
	o, err := NewStore(c, &Options{ContainerPrefix: s.prefix, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestPrune: blobs of failures older than the retention go, in every
// failures container and folder; newer ones stay, and so does anything
// outside the failure folders.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	old, recent := storeAt(t, s, c, now.Add(-31*24*time.Hour)), storeAt(t, s, c, now.Add(-29*24*time.Hour))
	for _, st := range []*Store{old, recent} {
		if err := st.WriteFailure(ctx, "prod", "account", "1", ChangeUpdate, "boom", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := st.WriteMetadataFailure(ctx, "other", "contact", ChangeUpdate, "cannot", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := st.WriteUnprocessable(ctx, "", []byte("junk"), "bad"); err != nil {
			t.Fatal(err)
		}
	}
	var f Failure
	for x, err := range old.List(ctx, "prod", "account") {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(x.Blob, now.Add(-31*24*time.Hour).Format("20060102")) {
			f = x
		}
	}
	if err := old.LogResyncFailure(ctx, f, "again"); err != nil {
		t.Fatal(err)
	}
	// Something that is not a failure blob, in a failures container.
	if _, err := c.UploadBuffer(ctx, s.ContainerName("prod"), "notes/readme.txt", []byte("keep"), nil); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for _, p := range []string{"prod", "other", ""} {
			for _, f := range folders {
				n += len(blobs(t, c, s.ContainerName(p), f))
			}
		}
		return n
	}
	// old: prod data+log, resync log, other metadata+log, unprocessable = 6; recent the same but the resync log: 5.
	if got := count(); got != 11 {
		t.Fatalf("%d failure blobs before the prune, want 11", got)
	}
	pruner := storeAt(t, s, c, now)
	n, err := pruner.Prune(ctx, DefaultRetention)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 || count() != 5 {
		t.Fatalf("pruned %d, %d left; want the 6 older than 30 days gone and 5 left", n, count())
	}
	if got := blobs(t, c, s.ContainerName("prod"), "notes/"); len(got) != 1 {
		t.Fatalf("a blob outside the failure folders was pruned: %v", got)
	}
	// A day later the rest is old enough too; a second prune finds nothing more.
	later := storeAt(t, s, c, now.Add(2*24*time.Hour))
	if n, err := later.Prune(ctx, DefaultRetention); err != nil || n != 5 || count() != 0 {
		t.Fatalf("second prune: %d, %v, %d left", n, err, count())
	}
	if n, err := later.Prune(ctx, DefaultRetention); err != nil || n != 0 {
		t.Fatalf("third prune: %d, %v", n, err)
	}
	if _, err := later.Prune(ctx, 0); err == nil {
		t.Fatal("Prune with no retention ran")
	}
}

// TestCountAndLatestLines: counts per entity from the listing, and the
// newest log lines first.
func TestCountAndLatestLines(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	if got, err := s.Count(ctx, "empty"); err != nil || len(got.Records) != 0 || got.Metadata != 0 {
		t.Fatalf("Count of a profile without a container = %+v, %v", got, err)
	}
	base := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i, w := range []struct{ entity, id string }{{"account", "a1"}, {"account", "a2"}, {"contact", "c1"}} {
		st := storeAt(t, s, c, base.Add(time.Duration(i)*time.Hour))
		if err := st.WriteFailure(ctx, "prod", w.entity, w.id, ChangeUpdate, "reason "+w.id, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := storeAt(t, s, c, base.Add(3*time.Hour)).WriteMetadataFailure(ctx, "prod", "account", ChangeUpdate, "cannot", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteUnprocessable(ctx, "prod", []byte("x"), "bad"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Count(ctx, "prod")
	if err != nil || got.Records["account"] != 2 || got.Records["contact"] != 1 || len(got.Records) != 2 || got.Metadata != 1 || got.Unprocessable != 1 {
		t.Fatalf("Count = %+v, %v", got, err)
	}
	lines, err := s.LatestLines(ctx, "prod", FailureLogFolder, 2)
	if err != nil || len(lines) != 2 {
		t.Fatalf("LatestLines = %v, %v", lines, err)
	}
	// The metadata failure (the newest) then c1.
	if !strings.Contains(lines[0].Line, "FailureReason: cannot") || !strings.Contains(lines[1].Line, "RecordId: c1,") {
		t.Fatalf("latest lines %q", lines)
	}
	if _, err := s.LatestLines(ctx, "prod", DataFolder, 2); err == nil {
		t.Fatal("LatestLines read data/ as a log")
	}
}
