package manage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/metrics"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

type fakeCounts struct {
	n     map[string]int64
	calls int
	err   error
}

func (f *fakeCounts) RecordCounts(_ context.Context, names []string) (map[string]int64, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]int64{}
	for _, n := range names {
		if v, ok := f.n[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

type fakeMetrics struct {
	pts     map[string][]metrics.Point
	deleted []string
}

func (f *fakeMetrics) Series(_ context.Context, _, entity string, since time.Time) ([]metrics.Point, error) {
	var out []metrics.Point
	for _, p := range f.pts[entity] {
		if !p.Minute.Before(since) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeMetrics) DeleteProfile(_ context.Context, p string) (int, error) {
	f.deleted = append(f.deleted, p)
	return 0, nil
}

// An initial sync's progress: rows done of the source's count, the rate
// over the last five whole minutes and the time left; a finished entity is
// complete at 100 % without asking the source; the count is asked once a
// minute at most; a count that cannot be read leaves the percentage out.
func TestStatusProgress(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	now := time.Date(2026, 12, 2, 10, 7, 30, 0, time.UTC)
	counts := &fakeCounts{n: map[string]int64{"contact": 1000}}
	met := &fakeMetrics{pts: map[string][]metrics.Point{"contact": {
		{Minute: now.Truncate(time.Minute).Add(-5 * time.Minute), Applied: 100},
		{Minute: now.Truncate(time.Minute).Add(-2 * time.Minute), Applied: 140, Failed: 10},
		{Minute: now.Truncate(time.Minute), Applied: 999}, // in progress: not counted
	}}}
	f.svc.d.Counts, f.svc.d.Metrics = counts, met
	f.svc.o.Now = func() time.Time { return now }
	if err := f.store.PutProfile(ctx, doc()); err != nil {
		t.Fatal(err)
	}
	for _, st := range []state.EntityState{
		{Profile: "crm", Entity: "account", Phase: state.PhaseDelta, Read: 40},
		{Profile: "crm", Entity: "contact", Phase: state.PhaseInitial, Read: 500},
	} {
		if err := f.store.SaveEntity(ctx, &st); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.store.AddCounters(ctx, "crm", "account", state.Counters{Succeeded: 40})
	_ = f.store.AddCounters(ctx, "crm", "contact", state.Counters{Succeeded: 240, Failed: 10})
	st, err := f.svc.Status(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if st.InitialSyncComplete || st.MaxLagSeconds != nil {
		t.Errorf("summary: complete %v, lag %v", st.InitialSyncComplete, st.MaxLagSeconds)
	}
	acct, cont := st.Entities[0].Progress, st.Entities[1].Progress
	if !acct.Complete || *acct.Percent != 100 || acct.SourceRows != nil {
		t.Errorf("account progress %+v", acct)
	}
	if cont.Complete || cont.RowsDone != 250 || *cont.SourceRows != 1000 || *cont.Percent != 25 || *cont.RowsPerMinute != 50 || *cont.ETASeconds != 900 {
		t.Errorf("contact progress %+v, want 250 of 1000 (25 %%) at 50 rows/min, 900 s left", cont)
	}
	if _, err := f.svc.Status(ctx, "crm"); err != nil || counts.calls != 1 {
		t.Errorf("the count was asked %d times within a minute, want 1 (%v)", counts.calls, err)
	}
	now = now.Add(2 * time.Minute)
	counts.err = errors.New("throttled")
	st, _ = f.svc.Status(ctx, "crm")
	if p := st.Entities[1].Progress; p.Percent != nil || p.SourceRows != nil || p.RowsDone != 250 {
		t.Errorf("without a count: %+v", p)
	}
	m, err := f.svc.Metrics(ctx, "crm", 1)
	if err != nil || len(m.Entities) != 2 || len(m.Entities[1].Points) != 3 || m.BucketSeconds != 60 {
		t.Fatalf("metrics %+v, %v", m, err)
	}
	if _, err := f.svc.Delete(ctx, "crm", ""); err != nil || len(met.deleted) != 1 {
		t.Errorf("delete: %v, metrics deleted for %v", err, met.deleted)
	}
	if _, err := f.svc.Create(ctx, doc(), false); err != nil || len(met.deleted) != 2 {
		t.Errorf("a new profile of the same name: %v, metrics deleted for %v; want the earlier one's cleared", err, met.deleted)
	}
}

// A finished initial sync stays complete while later changes wait on the
// queue (rows done reach the source's count); a full read whose last pages
// are still pending is not complete.
func TestProgressWithChangesPending(t *testing.T) {
	s := &Service{}
	tests := []struct {
		name           string
		es             EntityStatus
		total          int64
		complete       bool
		percentAtLeast float64
	}{
		{"a change pending after the sync", EntityStatus{Entity: "account", Phase: state.PhaseDelta, Pending: 1, RowsApplied: 1000}, 1000, true, 100},
		{"the read's last pages pending", EntityStatus{Entity: "account", Phase: state.PhaseDelta, Pending: 400, RowsApplied: 600}, 1000, false, 60},
		{"pending, the count unknown", EntityStatus{Entity: "account", Phase: state.PhaseDelta, Pending: 1, RowsApplied: 1000}, -1, false, 0},
		{"still reading", EntityStatus{Entity: "account", Phase: state.PhaseInitial, RowsApplied: 1000}, 1000, false, 99.9},
	}
	for _, tt := range tests {
		s.progress(t.Context(), "crm", &tt.es, tt.total)
		p := tt.es.Progress
		if p.Complete != tt.complete || (tt.percentAtLeast > 0 && (p.Percent == nil || *p.Percent < tt.percentAtLeast)) {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
}
