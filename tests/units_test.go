package tests

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dataexport/dataexport/internal/dvemu"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// newUnitEnv replicates 600 accounts and contacts with Dataverse's page
// size: each initial page (and a delta of a few hundred changes) is far
// over the Storage queue's 48 KiB and travels as one unit in Blob storage.
func newUnitEnv(t *testing.T, dialect string) *env {
	t.Helper()
	dest, schemaName := destinations(t)[dialect](t)
	emu, err := dvemu.New(dvemu.Options{Records: 600, RandSeed: 5})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvFrom(t, dest, schemaName, emu, map[string]string{"DATAVERSE_PAGE_SIZE": "5000"})
}

// units lists the units of the env's profile left in Blob storage.
func (e *env) units() []string {
	e.t.Helper()
	names, err := e.app.Claims.List(e.t.Context(), e.prof.Name+"/")
	e.check(err)
	return names
}

// references decodes captured messages, checking each is one page.
func (e *env) references(bodies [][]byte) (refs, inline int) {
	e.t.Helper()
	for _, b := range bodies {
		m, err := dsync.DecodeMessage(b)
		e.check(err)
		if m.Part != 0 {
			e.t.Fatalf("message %s is part %d of a page; want whole pages", m.ID, m.Part)
		}
		if m.Claim != "" {
			refs++
		} else {
			inline++
		}
	}
	return refs, inline
}

func (e *env) updateAccounts(n int, name string) {
	e.t.Helper()
	for _, id := range e.emu.IDs("account")[:n] {
		e.check(e.emu.Update("account", id, map[string]any{"name": name}))
	}
}

// TestPageUnits: a page is one message: a large one a reference to its unit
// in Blob storage, a small one inline. Each is applied whole, and a unit is
// gone once applied.
func TestPageUnits(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			e := newUnitEnv(t, dialect)
			ctx := t.Context()
			e.check(e.host.FireTimer(ctx, pollFn))
			initial := e.capture()
			if refs, inline := e.references(initial); refs != 2 || inline != 0 {
				t.Fatalf("initial read: %d unit references, %d inline messages; want one unit per entity", refs, inline)
			}
			if n := len(e.units()); n != 2 {
				t.Fatalf("%d units stored, want 2", n)
			}
			e.send(initial...)
			e.assertMatch("after the initial read as two units")
			if u := e.units(); len(u) != 0 {
				t.Fatalf("units left after they were applied: %v", u)
			}

			e.updateAccounts(1, "one change")
			e.check(e.host.FireTimer(ctx, pollFn))
			small := e.capture()
			if refs, inline := e.references(small); refs != 0 || inline != 1 {
				t.Fatalf("one change: %d references, %d inline; want one inline message", refs, inline)
			}
			e.send(small...)
			e.updateAccounts(300, "three hundred changes")
			e.check(e.host.FireTimer(ctx, pollFn))
			large := e.capture()
			if refs, inline := e.references(large); refs != 1 || inline != 0 {
				t.Fatalf("300 changes: %d references, %d inline; want one unit", refs, inline)
			}
			e.send(large...)
			e.assertMatch("after a small and a large delta")
			if u := e.units(); len(u) != 0 {
				t.Fatalf("units left after they were applied: %v", u)
			}
			// A duplicate delivery of an applied unit's reference does nothing.
			e.send(large...)
			e.assertMatch("after a duplicate delivery")
		})
	}
}

// crashAfterPut stores a unit and then "dies": the poller sees an error
// before it enqueues the reference.
type crashAfterPut struct{ dsync.ClaimStore }

func (c crashAfterPut) PutClaim(ctx context.Context, name string, body []byte) error {
	if err := c.ClaimStore.PutClaim(ctx, name, body); err != nil {
		return err
	}
	return errors.New("simulated crash after the unit was stored")
}

// TestCrashAroundUnits interrupts a poll of a large delta page between the
// unit's write and its enqueue, and between the enqueue and the checkpoint,
// with the source changing again before the next poll or not. The position
// stays; the next ordinary polls bring the destination level with the
// source; a unit named by a message is removed once applied, and a unit
// whose page was read again unchanged is the same blob.
func TestCrashAroundUnits(t *testing.T) {
	for _, crash := range []string{"between the unit's write and its enqueue", "between the enqueue and the checkpoint"} {
		for _, changed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/source changed %t", crash, changed), func(t *testing.T) {
				e := newUnitEnv(t, "sqlite")
				e.sync()
				e.updateAccounts(300, "before the crash")
				before := e.positions()
				var p *dsync.Poller
				if crash == "between the unit's write and its enqueue" {
					p = dsync.NewPoller(e.app.Source, e.app.Store, e.app.Store, e.app.Pool, e.app.Queue, &dsync.PollerOptions{Claims: crashAfterPut{e.app.Claims}})
				} else {
					p = dsync.NewPoller(e.app.Source, e.app.Store, lostCheckpoints{e.app.Store}, e.app.Pool, e.app.Queue, &dsync.PollerOptions{Claims: e.app.Claims})
				}
				if res, err := p.PollAll(t.Context()); err == nil && dsync.ResultsErr(res) == nil {
					t.Fatal("the interrupted poll reported no error")
				}
				if st := e.positions()["account"]; st.Link != before["account"].Link || st.Pages != before["account"].Pages {
					t.Fatal("account: the position moved although the poll was interrupted")
				}
				if n := len(e.units()); n != 1 {
					t.Fatalf("%d units after the interrupted poll, want the one it stored", n)
				}
				if changed {
					e.updateAccounts(200, "after the crash")
				}
				e.sync()
				e.assertMatch("after an interrupted poll and ordinary ones")
				left := len(e.units())
				// A unit read again unchanged is the blob the interrupted poll
				// wrote, and goes with it. A page that changed in between is
				// another unit; the interrupted poll's, which no message names
				// when the crash came before the enqueue, is left to the
				// lifecycle rule.
				want := 0
				if changed && crash == "between the unit's write and its enqueue" {
					want = 1
				}
				if left != want {
					t.Fatalf("%d units left, want %d", left, want)
				}
			})
		}
	}
}
