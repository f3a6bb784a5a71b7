package tests

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// flakySender fails every Send after the first n, like a poller whose
// process dies while it enqueues a page. Its small message size splits every
// page into several messages, so the failure falls in the middle of a page.
type flakySender struct {
	dsync.Sender
	n    int64
	sent atomic.Int64
}

func (f *flakySender) MaxBodyBytes() int { return 3000 }

func (f *flakySender) Send(ctx context.Context, body []byte) error {
	if f.sent.Add(1) > f.n {
		return errors.New("simulated crash while enqueueing")
	}
	return f.Sender.Send(ctx, body)
}

// lostCheckpoints enqueues fine but never saves a position, like a poller
// that dies right after enqueueing and before its checkpoint. The save that
// only raises the high water before sending goes through.
type lostCheckpoints struct{ *state.Store }

func (l lostCheckpoints) SaveEntity(ctx context.Context, st *state.EntityState) error {
	cur, err := l.GetEntity(ctx, st.Profile, st.Entity)
	if err == nil && cur.Link == st.Link && cur.Pages == st.Pages {
		return l.Store.SaveEntity(ctx, st)
	}
	return errors.New("simulated crash before the checkpoint")
}

func (e *env) positions() map[string]state.EntityState {
	out := map[string]state.EntityState{}
	for _, ent := range e.prof.Entities {
		st, err := e.app.Store.GetEntity(e.t.Context(), e.prof.Name, ent)
		e.check(err)
		out[ent] = st
	}
	return out
}

// TestCrashDuringPoll interrupts polls at the two dangerous points — in the
// middle of enqueueing a page, and between enqueueing and the checkpoint —
// and checks that no position moved past unsent changes and that the next
// ordinary polls end with the destination equal to the source.
func TestCrashDuringPoll(t *testing.T) {
	for _, tc := range []struct {
		name   string
		poller func(e *env) *dsync.Poller
	}{
		{"while enqueueing", func(e *env) *dsync.Poller {
			// One entity at a time: the failure falls in the first one's
			// page, and every send after it fails too.
			return dsync.NewPoller(e.app.Source, e.app.Store, e.app.Store, e.app.Pool, &flakySender{Sender: e.app.Queue, n: 1}, &dsync.PollerOptions{Concurrency: 1})
		}},
		{"before the checkpoint", func(e *env) *dsync.Poller {
			return dsync.NewPoller(e.app.Source, e.app.Store, lostCheckpoints{e.app.Store}, e.app.Pool, e.app.Queue, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest, schemaName := destinations(t)["sqlite"](t)
			e := newEnv(t, dest, schemaName)
			e.sync()
			e.mutate()
			// Enough changed accounts that their first delta page (7 rows)
			// needs several messages.
			for _, id := range e.emu.IDs("account")[8:16] {
				e.check(e.emu.Update("account", id, map[string]any{"name": "changed before the crash"}))
			}
			before := e.positions()

			if res, err := tc.poller(e).PollAll(t.Context()); err != nil || dsync.ResultsErr(res) == nil {
				t.Fatalf("the interrupted poll reported no entity error (poll error %v)", err)
			}
			for ent, st := range e.positions() {
				if st.Link != before[ent].Link || st.Pages != before[ent].Pages || st.HighWater < before[ent].HighWater {
					t.Fatalf("%s: the position moved although the poll was interrupted", ent)
				}
			}
			// Whatever the interrupted poll enqueued is applied; then the
			// ordinary poller reads the same changes again.
			if _, err := e.host.DrainQueue(t.Context(), applyFn); err != nil {
				t.Fatal(err)
			}
			e.sync()
			e.assertMatch("after an interrupted poll and a normal one")
		})
	}
}

// TestPollerRunsTwice runs two pollers at once on the same entities while the
// source changes, as happens when the timer singleton fails: one loses the
// ETag race on each checkpoint and stops, which is no error and one INFO
// line; the destination ends equal to the source.
func TestPollerRunsTwice(t *testing.T) {
	dest, schemaName := destinations(t)["postgres"](t)
	e := newEnv(t, dest, schemaName)
	var superseded atomic.Int64
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(&syncWriter{buf: logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for round := 0; round < 3; round++ {
		if round > 0 {
			e.mutate()
		}
		var wg gosync.WaitGroup
		for range 2 {
			p := dsync.NewPoller(e.app.Source, e.app.Store, e.app.Store, e.app.Pool, e.app.Queue, &dsync.PollerOptions{Logger: log})
			wg.Go(func() {
				res, err := p.PollAll(t.Context())
				if err == nil {
					err = dsync.ResultsErr(res)
				}
				if err != nil {
					t.Errorf("round %d: %v", round, err)
				}
				for _, r := range res {
					if r.Superseded {
						superseded.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if _, err := e.host.DrainQueue(t.Context(), applyFn); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	e.assertMatch("after concurrent pollers")
	if n := strings.Count(logs.String(), "another poll advanced this entity first"); int64(n) != superseded.Load() {
		t.Errorf("%d polls lost the race but %d lines say so", superseded.Load(), n)
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("concurrent pollers logged warnings or errors:\n%s", logs)
	}
	t.Logf("polls that lost the checkpoint race: %d", superseded.Load())
}

// TestCrashThenDelete: a poll sends an update and dies before its
// checkpoint; the record is then deleted in the source. The next poll reads
// from the old position and sees only the delete, which must still be
// stamped above the update already sent, whichever of the two the applier
// gets first, or the deleted record would stay in the destination.
func TestCrashThenDelete(t *testing.T) {
	for _, late := range []bool{false, true} {
		name := "update applied first"
		if late {
			name = "update applied after the delete"
		}
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)["sqlite"](t)
			e := newEnv(t, dest, schemaName)
			e.sync()
			x := e.emu.IDs("account")[3]
			crashed := e.updateThenCrash("account", x)
			if !late {
				e.send(crashed...)
			}
			e.check(e.emu.Delete("account", x))
			e.sync()
			if late {
				e.send(crashed...)
			}
			if v, ok := e.stored("account", x); ok {
				t.Errorf("deleted account %s is still in the destination (version %d)", x, v)
			}
			e.assertMatch("after a crash, a delete and the poll after")
		})
	}
}

// TestCrashThenDeleteOnAnEarlierPage: as TestCrashThenDelete, but the delete
// of the updated record comes on a page before the last one (ten deletes,
// pages of seven), so no delta token is known yet when it is stamped: only
// the high water saved before the crashed poll sent its update orders the
// delete after it.
func TestCrashThenDeleteOnAnEarlierPage(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	ids := e.emu.IDs("account")
	slices.Sort(ids)
	x := ids[0]
	e.send(e.updateThenCrash("account", x)...) // the update is applied
	for _, id := range ids[:10] {
		e.check(e.emu.Delete("account", id))
	}
	e.sync()
	if v, ok := e.stored("account", x); ok {
		t.Fatalf("deleted account %s is still in the destination (version %d)", x, v)
	}
	e.assertMatch("after a crash and deletes over several pages")
}

// updateThenCrash updates a record in the source, then runs a poll that
// sends it and dies before its checkpoint; it returns what that poll sent,
// taken off the queue unapplied.
func (e *env) updateThenCrash(entity, id string) [][]byte {
	e.t.Helper()
	e.check(e.emu.Update(entity, id, map[string]any{"name": "updated before the crash"}))
	p := dsync.NewPoller(e.app.Source, e.app.Store, lostCheckpoints{e.app.Store}, e.app.Pool, e.app.Queue, nil)
	if res, err := p.PollAll(e.t.Context()); err != nil || dsync.ResultsErr(res) == nil {
		e.t.Fatalf("the interrupted poll reported no entity error (poll error %v)", err)
	}
	crashed := e.capture()
	if len(crashed) == 0 {
		e.t.Fatal("the interrupted poll sent nothing")
	}
	return crashed
}

// stored is the destination's version of a record, if it holds one.
func (e *env) stored(entity, id string) (int64, bool) {
	for _, r := range e.destination(entity, e.columns(entity)) {
		if r.ID == id {
			return r.Version, true
		}
	}
	return 0, false
}
