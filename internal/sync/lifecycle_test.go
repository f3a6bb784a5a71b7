package sync

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// dropSink drops tables and writes metadata, or fails as told.
type dropSink struct {
	fakeSink
	dropErr, metaErr error
	dropped          []schema.TableName
}

func (s *dropSink) DropTable(_ context.Context, t schema.TableName) error {
	if s.dropErr != nil {
		return s.dropErr
	}
	s.dropped = append(s.dropped, t)
	return nil
}
func (s *dropSink) EnsureMetadataTables(context.Context) error { return nil }
func (s *dropSink) ReplaceMetadata(context.Context, []schema.MetadataRows) error {
	return s.metaErr
}
func (s *dropSink) ReadMetadata(context.Context, string) ([][]record.Value, error) { return nil, nil }

type dropDest struct{ s *dropSink }

func (d dropDest) Sink(context.Context, profile.Profile) (sink.Sink, error) { return d.s, nil }

// memEntities is an entity store in memory.
type memEntities map[string]state.EntityState

func (m memEntities) GetEntity(_ context.Context, p, e string) (state.EntityState, error) {
	st, ok := m[p+"/"+e]
	if !ok {
		return st, state.ErrNotFound
	}
	return st, nil
}
func (m memEntities) SaveEntity(_ context.Context, st *state.EntityState) error {
	m[st.Profile+"/"+st.Entity] = *st
	return nil
}
func (m memEntities) DeleteEntity(_ context.Context, p, e string) error {
	delete(m, p+"/"+e)
	return nil
}

// No step of Rebaseline or Cleanup may leave a delta link beside a dropped
// (empty) table: a read resumed from it would miss every row not changed
// since.
func TestLifecycleNeverLeavesALinkWithoutItsTable(t *testing.T) {
	prof := profile.Profile{Name: "p", Entities: []string{"account"}}
	delta := func() memEntities {
		return memEntities{"p/account": {Profile: "p", Entity: "account", Phase: state.PhaseDelta, Link: "accounts?$deltatoken=9!x", HighWater: 9},
			"p/contact": {Profile: "p", Entity: "contact", Phase: state.PhaseDelta, Link: "contacts?$deltatoken=9!x"}}
	}

	t.Run("rebaseline whose drop fails stays blocked", func(t *testing.T) {
		m := delta()
		err := Rebaseline(t.Context(), prof, "account", m, dropDest{&dropSink{dropErr: errors.New("connection reset")}})
		st := m["p/account"]
		if err == nil || st.Phase != state.PhaseBlocked || st.Link != "" || !strings.Contains(st.LastError, "run the re-baseline again") {
			t.Fatalf("err %v, state %+v; want an error and the entity blocked without its link", err, st)
		}
	})
	t.Run("rebaseline", func(t *testing.T) {
		m, s := delta(), &dropSink{}
		if err := Rebaseline(t.Context(), prof, "account", m, dropDest{s}); err != nil {
			t.Fatal(err)
		}
		if st := m["p/account"]; st.Phase != state.PhaseInitial || st.Link != "" || st.HighWater != 0 || len(s.dropped) != 1 {
			t.Fatalf("state %+v, dropped %v; want a read from the start after the drop", st, s.dropped)
		}
	})
	t.Run("cleanup whose metadata step fails has forgotten the state", func(t *testing.T) {
		m, s := delta(), &dropSink{metaErr: errors.New("permission denied")}
		err := Cleanup(t.Context(), prof, "contact", m, dropDest{s})
		if _, kept := m["p/contact"]; err == nil || kept || len(s.dropped) != 1 {
			t.Fatalf("err %v, state kept %v, dropped %v; want an error with the state already gone", err, kept, s.dropped)
		}
	})
	t.Run("cleanup whose drop fails has forgotten the state", func(t *testing.T) {
		m := delta()
		err := Cleanup(t.Context(), prof, "contact", m, dropDest{&dropSink{dropErr: errors.New("lock timeout")}})
		if _, kept := m["p/contact"]; err == nil || kept {
			t.Fatalf("err %v, state kept %v", err, kept)
		}
	})
}

func (m memEntities) ListEntities(_ context.Context, p string) ([]state.EntityState, error) {
	var out []state.EntityState
	for _, st := range m {
		if st.Profile == p {
			out = append(out, st)
		}
	}
	return out, nil
}

type memProfiles map[string]profile.Profile

func (m memProfiles) GetProfile(_ context.Context, name string) (profile.Profile, error) {
	p, ok := m[name]
	if !ok {
		return p, state.ErrNotFound
	}
	return p, nil
}
func (m memProfiles) PutProfile(_ context.Context, p profile.Profile) error {
	m[p.Name] = p
	return nil
}
