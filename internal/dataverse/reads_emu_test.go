package dataverse_test

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/record"
)

// changedOrg is an emulator whose accounts were created, updated and
// deleted, and the ids a resync would ask for: live ones (some changed),
// deleted ones and ones that never existed.
type changedOrg struct {
	emu                  *dvemu.Emulator
	live, deleted, never []string
}

func newChangedOrg(t *testing.T, opts dvemu.Options) *changedOrg {
	t.Helper()
	emu, err := dvemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	o := &changedOrg{emu: emu}
	ids := emu.IDs("account")
	for i, id := range ids {
		switch {
		case i%7 == 3:
			if err := emu.Delete("account", id); err != nil {
				t.Fatal(err)
			}
			o.deleted = append(o.deleted, id)
		case i%5 == 1:
			if err := emu.Update("account", id, map[string]any{"name": "Changed " + id[:8], "numberofemployees": i}); err != nil {
				t.Fatal(err)
			}
			o.live = append(o.live, id)
		case i%2 == 0:
			o.live = append(o.live, id)
		}
	}
	for i := range 4 {
		id, err := emu.Create("account", map[string]any{"name": "New " + string(rune('A'+i)), "revenue": "10.25"})
		if err != nil {
			t.Fatal(err)
		}
		o.live = append(o.live, id)
	}
	o.never = []string{"00000000-0000-0000-0000-0000000000f1", "00000000-0000-0000-0000-0000000000f2"}
	return o
}

// TestEmuRecordsByID reads changed, unchanged, deleted and never-existing
// ids in requests whose URLs stay under a small limit the emulator
// enforces too (414 beyond it), through injected faults and with rows that
// carry their version only in @odata.etag.
func TestEmuRecordsByID(t *testing.T) {
	const maxURL = 3000
	tests := []struct {
		name   string
		opts   dvemu.Options
		faults bool
	}{
		{"plain", dvemu.Options{}, false},
		{"version only in the etag", dvemu.Options{OmitVersionNumber: true}, false},
		{"server errors and dropped connections", dvemu.Options{Faults: dvemu.Faults{ServerErrorRate: 0.3, DropRate: 0.1}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Records, opts.RandSeed, opts.MaxURLLength = 120, 6, maxURL
			o := newChangedOrg(t, opts)
			srv := newServer(t, o.emu)
			c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{
				Transport: srv.Client(), RequestsPerSecond: -1, MaxURLLength: maxURL, MaxRetries: 30,
				RetryDelay: time.Millisecond, MaxRetryDelay: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			e, err := c.Entity(ctx, "account")
			if err != nil {
				t.Fatal(err)
			}
			// Ask in mixed order, with duplicates and upper case.
			ask := slices.Concat(o.deleted, o.live, o.never, o.live[:3])
			ask[len(o.deleted)] = strings.ToUpper(ask[len(o.deleted)])
			before := c.Stats()
			got, err := c.RecordsByID(ctx, e, ask)
			if err != nil {
				t.Fatal(err)
			}
			fields := dataverse.Fields(e)
			if len(got.Columns) != len(fields) {
				t.Fatalf("%d columns, want %d", len(got.Columns), len(fields))
			}
			var ids []string
			for _, r := range got.Records {
				ids = append(ids, r.ID)
				checkRecord(t, o.emu, "account", fields, r)
			}
			slices.Sort(ids)
			wantLive := slices.Clone(o.live)
			slices.Sort(wantLive)
			if !slices.Equal(ids, wantLive) {
				t.Errorf("records %v, want %v", ids, wantLive)
			}
			wantMissing := slices.Concat(o.deleted, o.never)
			slices.Sort(wantMissing)
			missing := slices.Clone(got.Missing)
			slices.Sort(missing)
			if !slices.Equal(missing, wantMissing) {
				t.Errorf("missing %v, want %v", missing, wantMissing)
			}
			st := c.Stats()
			unique := len(o.live) + len(o.deleted) + len(o.never)
			if sent := st.Requests - before.Requests - (st.Retries - before.Retries); sent < 3 || sent > int64(unique) {
				t.Errorf("%d requests for %d ids under a %d-character URL: not chunked as expected", sent, unique, maxURL)
			}
			if tc.faults && st.Retries == before.Retries {
				t.Error("no fault was retried: the case exercised nothing")
			}
		})
	}
}

func TestRecordsByIDRefusesBadInput(t *testing.T) {
	_, c := emuOrg(t, dvemu.Options{Records: 2}, &dataverse.ClientOptions{RequestsPerSecond: -1})
	ctx := context.Background()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	before := c.Stats().Requests
	for _, ids := range [][]string{{"nope"}, {"{00000000-0000-0000-0000-000000000001}"}, {"00000000-0000-0000-0000-000000000001", "1' or 1 eq 1"}} {
		if _, err := c.RecordsByID(ctx, e, ids); err == nil || !strings.Contains(err.Error(), "is not a GUID") {
			t.Errorf("ids %q: err %v", ids, err)
		}
	}
	got, err := c.RecordsByID(ctx, e, nil)
	if err != nil || len(got.Records)+len(got.Missing) != 0 {
		t.Errorf("no ids: %+v, %v", got, err)
	}
	if n := c.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent for refused or empty input", n)
	}
	// A select that cannot fit the URL limit is an error, not a 414.
	_, small := emuOrg(t, dvemu.Options{Records: 2}, &dataverse.ClientOptions{RequestsPerSecond: -1, MaxURLLength: 200})
	if _, err := small.RecordsByID(ctx, e, []string{"00000000-0000-0000-0000-000000000001"}); err == nil || !strings.Contains(err.Error(), "MaxURLLength") {
		t.Errorf("oversized select: %v", err)
	}
}

// TestEmuKeysPager streams every (id, version) of a changed entity in
// pages, resumes from a stored NextLink, and reports the highest version.
func TestEmuKeysPager(t *testing.T) {
	for _, omit := range []bool{false, true} {
		name := "versionnumber"
		if omit {
			name = "version only in the etag"
		}
		t.Run(name, func(t *testing.T) {
			o := newChangedOrg(t, dvemu.Options{Records: 60, RandSeed: 8, OmitVersionNumber: omit})
			srv := newServer(t, o.emu)
			c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{Transport: srv.Client(), RequestsPerSecond: -1, PageSize: 9})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			e, err := c.Entity(ctx, "account")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{}
			var wantMax int64
			for _, id := range o.emu.IDs("account") {
				row, _ := o.emu.Get("account", id)
				want[id] = row["versionnumber"].(int64)
				wantMax = max(wantMax, want[id])
			}
			got := map[string]int64{}
			p := c.NewKeysPager(e, nil)
			var resume string
			var pageMax int64
			for p.More() {
				pg, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(pg.Keys) > 9 {
					t.Fatalf("page %d holds %d keys, over the page size", pg.Page, len(pg.Keys))
				}
				for _, k := range pg.Keys {
					if _, dup := got[k.ID]; dup {
						t.Errorf("%s read twice", k.ID)
					}
					got[k.ID] = k.Version
					pageMax = max(pageMax, pg.MaxVersion)
				}
				if pg.Page == 3 {
					resume = pg.NextLink
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d keys, want %d", len(got), len(want))
			}
			for id, v := range want {
				if got[id] != v {
					t.Errorf("%s: version %d, want %d", id, got[id], v)
				}
			}
			if p.MaxVersion() != wantMax || pageMax != wantMax {
				t.Errorf("MaxVersion %d (pages %d), want %d", p.MaxVersion(), pageMax, wantMax)
			}
			// Resuming from page 3's NextLink reads the rest, the same keys.
			if resume == "" {
				t.Fatal("no NextLink on page 3")
			}
			rest := 0
			rp := c.NewKeysPager(e, &dataverse.KeysOptions{Link: resume})
			for rp.More() {
				pg, err := rp.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range pg.Keys {
					if got[k.ID] != k.Version {
						t.Errorf("resumed read: %s version %d, want %d", k.ID, k.Version, got[k.ID])
					}
					rest++
				}
			}
			if rest != len(want)-27 {
				t.Errorf("resumed read returned %d keys, want %d", rest, len(want)-27)
			}
		})
	}
}

// The keys pager keeps nothing of earlier pages: live heap after the last
// page is no larger than after page 3 (beyond noise).
func TestEmuKeysMemoryFlat(t *testing.T) {
	const pageSize, pages = 5000, 20
	_, c := emuOrg(t, dvemu.Options{Records: pageSize * pages, RandSeed: 9},
		&dataverse.ClientOptions{PageSize: pageSize, RequestsPerSecond: -1})
	ctx := context.Background()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var atThree, atEnd uint64
	total := 0
	p := c.NewKeysPager(e, nil)
	for n := 1; p.More(); n++ {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(pg.Keys)
		pg = nil
		switch n {
		case 3:
			atThree = heap()
		case pages:
			atEnd = heap()
		}
	}
	t.Logf("%d keys; live heap after page 3: %d KiB, after page %d: %d KiB", total, atThree>>10, pages, atEnd>>10)
	if total != pageSize*pages {
		t.Fatalf("%d keys, want %d", total, pageSize*pages)
	}
	if atEnd > atThree+2<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d pages", atThree, atEnd, pages-3)
	}
}

// TestEmuRowsPager reads every current row of a changed entity, then only
// those changed after a version, in pages, resuming from a stored
// NextLink: the rows, versions and values are those an initial read of
// the same entity returns.
func TestEmuRowsPager(t *testing.T) {
	o := newChangedOrg(t, dvemu.Options{Records: 60, RandSeed: 8})
	srv := newServer(t, o.emu)
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{Transport: srv.Client(), RequestsPerSecond: -1, PageSize: 9})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	// What an initial (change-tracking) read returns, by id.
	want := map[string]record.Record{}
	var versions []int64
	for _, pg := range readAll(t, c.NewChangesPager(e, nil)) {
		for _, r := range pg.Upserts {
			want[r.ID] = r
			versions = append(versions, r.Version)
		}
	}
	slices.Sort(versions)
	read := func(p *dataverse.RowsPager, stopAt int) (map[string]record.Record, string) {
		t.Helper()
		got := map[string]record.Record{}
		for p.More() {
			pg, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Upserts) > 9 || len(pg.Deletes) > 0 || pg.DeltaLink != "" {
				t.Fatalf("page %d: %d rows, %d deletes, deltaLink %q", pg.Page, len(pg.Upserts), len(pg.Deletes), pg.DeltaLink)
			}
			for _, r := range pg.Upserts {
				if _, dup := got[r.ID]; dup {
					t.Errorf("%s read twice", r.ID)
				}
				got[r.ID] = r
			}
			if pg.Page == stopAt {
				return got, pg.NextLink
			}
		}
		return got, ""
	}
	same := func(got map[string]record.Record, keep func(record.Record) bool) {
		t.Helper()
		n := 0
		for id, w := range want {
			if !keep(w) {
				continue
			}
			n++
			g, ok := got[id]
			if !ok {
				t.Errorf("%s (version %d) not read", id, w.Version)
				continue
			}
			if g.Version != w.Version || !slices.EqualFunc(g.Values, w.Values, record.Value.Equal) {
				t.Errorf("%s: read %d %v, the initial read has %d %v", id, g.Version, g.Values, w.Version, w.Values)
			}
		}
		if len(got) != n {
			t.Errorf("%d rows read, want %d", len(got), n)
		}
	}

	all, _ := read(c.NewRowsPager(e, nil), 0)
	same(all, func(record.Record) bool { return true })

	after := versions[len(versions)*2/3]
	recent, _ := read(c.NewRowsPager(e, &dataverse.RowsOptions{AfterVersion: after}), 0)
	same(recent, func(r record.Record) bool { return r.Version > after })
	if len(recent) == 0 || len(recent) == len(all) {
		t.Fatalf("%d of %d rows changed after %d: the filter selected nothing or everything", len(recent), len(all), after)
	}

	// A stored NextLink resumes the read where it stopped.
	first, link := read(c.NewRowsPager(e, nil), 2)
	if link == "" {
		t.Fatal("no NextLink on page 2")
	}
	rest, _ := read(c.NewRowsPager(e, &dataverse.RowsOptions{Link: link}), 0)
	for id, r := range rest {
		if _, dup := first[id]; dup {
			t.Errorf("%s read before and after the resume", id)
		}
		first[id] = r
	}
	same(first, func(record.Record) bool { return true })
}
