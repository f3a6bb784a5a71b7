package dataverse_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// The pager keeps nothing of earlier pages: live heap after page 25 is no
// larger than after page 3 (beyond noise), however many pages were read.
func TestEmuMemoryFlatAcrossPages(t *testing.T) {
	const pageSize, pages = 1000, 25
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
	p := c.NewChangesPager(e, nil)
	for n := 1; p.More(); n++ {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Upserts) == 0 {
			t.Fatalf("page %d empty", n)
		}
		pg = nil // the caller is done with the page, as the poller is after enqueueing it
		switch n {
		case 3:
			atThree = heap()
		case pages:
			atEnd = heap()
		}
	}
	t.Logf("live heap after page 3: %d KiB, after page %d: %d KiB", atThree>>10, pages, atEnd>>10)
	if atEnd > atThree+2<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d pages", atThree, atEnd, pages-3)
	}
}

// BenchmarkEmuFullRead measures an initial read through HTTP from the
// emulator (emulator rendering included), in rows/s.
func BenchmarkEmuFullRead(b *testing.B) {
	const rows = 20_000
	emu, err := dvemu.New(dvemu.Options{Records: rows, RandSeed: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv := newServer(b, emu)
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken),
		&dataverse.ClientOptions{Transport: srv.Client(), RequestsPerSecond: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		p := c.NewChangesPager(e, nil)
		for p.More() {
			pg, err := p.NextPage(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n += len(pg.Upserts)
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}
