package dvemu

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDrive(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 50, RandSeed: 9})
	_, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
	before := len(e.IDs("account"))
	st, err := e.Drive(context.Background(), DriveOptions{Entities: []string{"account"}}, 200)
	if err != nil {
		t.Fatal(err)
	}
	if st.Inserts+st.Updates+st.Deletes != 200 || st.Inserts == 0 || st.Updates == 0 || st.Deletes == 0 {
		t.Fatalf("stats %+v", st)
	}
	after := e.IDs("account")
	if len(after) != before+st.Inserts-st.Deletes {
		t.Fatalf("%d rows, want %d", len(after), before+st.Inserts-st.Deletes)
	}
	// The delta holds every live changed row once and every deleted one once.
	rows, _, _ := readAll(t, srv, delta, 5000)
	seen := map[string]bool{}
	deletes := 0
	for _, r := range rows {
		id, _ := r["accountid"].(string)
		if r["reason"] == "deleted" {
			id = r["id"].(string)
			deletes++
		}
		if seen[id] {
			t.Fatalf("id %s twice in one delta", id)
		}
		seen[id] = true
	}
	if deletes != st.Deletes {
		t.Fatalf("%d deletes in delta, drove %d", deletes, st.Deletes)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Drive(ctx, DriveOptions{}, 0); err == nil {
		t.Fatal("cancelled drive returned nil")
	}
}

// snapshot is the ids of an entity's live rows and the ids of those changed
// after a version.
func snapshot(e *Emulator, entity string, since int64) (ids map[string]bool, changed int) {
	ids = map[string]bool{}
	for _, id := range e.IDs(entity) {
		ids[id] = true
		if row, ok := e.Get(entity, id); ok && row["versionnumber"].(int64) > since {
			changed++
		}
	}
	return ids, changed
}

// TestDriveMix drives custom insert/update/delete weights over several
// entities: the stats add up, pure mixes do only what they are weighted for,
// a mixed feed follows its weights, every listed entity is changed and an
// unlisted one is not.
func TestDriveMix(t *testing.T) {
	entities := []string{"account", "contact", "new_project"}
	const untouched = "lead"
	tests := []struct {
		name                      string
		inserts, updates, deletes int
		n                         int
	}{
		{"inserts only", 1, 0, 0, 60},
		{"updates only", 0, 1, 0, 60},
		{"deletes only", 0, 0, 1, 60},
		{"custom mix 1:2:1", 1, 2, 1, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 200 rows per entity: deletes always find a live row.
			e, err := New(Options{Records: 200, RandSeed: 21})
			if err != nil {
				t.Fatal(err)
			}
			v0 := e.Version()
			before := map[string]map[string]bool{}
			for _, name := range append(entities, untouched) {
				before[name], _ = snapshot(e, name, v0)
			}
			st, err := e.Drive(context.Background(), DriveOptions{Entities: entities, Inserts: tt.inserts, Updates: tt.updates, Deletes: tt.deletes, Seed: 3}, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if st.Inserts+st.Updates+st.Deletes != tt.n {
				t.Fatalf("stats %+v do not add up to %d", st, tt.n)
			}
			// Each kind happens in proportion to its weight (±30%, a
			// tolerance far beyond the binomial spread, so seeds do not matter).
			w := tt.inserts + tt.updates + tt.deletes
			for _, k := range []struct {
				kind    string
				got, wt int
			}{{"inserts", st.Inserts, tt.inserts}, {"updates", st.Updates, tt.updates}, {"deletes", st.Deletes, tt.deletes}} {
				want := float64(tt.n*k.wt) / float64(w)
				if float64(k.got) < 0.7*want || float64(k.got) > 1.3*want {
					t.Errorf("%d %s, want about %.0f (weights %d:%d:%d)", k.got, k.kind, want, tt.inserts, tt.updates, tt.deletes)
				}
			}
			inserted, deleted, changed := 0, 0, 0
			for _, name := range entities {
				after, ch := snapshot(e, name, v0)
				ins, del := 0, 0
				for id := range after {
					if !before[name][id] {
						ins++
					}
				}
				for id := range before[name] {
					if !after[id] {
						del++
					}
				}
				if ins+del+ch == 0 {
					t.Errorf("%s: not changed by a feed over %v", name, entities)
				}
				inserted, deleted, changed = inserted+ins, deleted+del, changed+ch
			}
			// A row inserted and deleted by the same feed shows in neither
			// set, so only the pure mixes pin the counts exactly.
			if inserted-deleted != st.Inserts-st.Deletes {
				t.Errorf("rows grew by %d, stats say %d inserts and %d deletes", inserted-deleted, st.Inserts, st.Deletes)
			}
			switch {
			case tt.updates+tt.deletes == 0 && inserted != tt.n:
				t.Errorf("%d new rows, want %d", inserted, tt.n)
			case tt.inserts+tt.deletes == 0 && (inserted != 0 || deleted != 0 || changed == 0 || changed > tt.n):
				t.Errorf("updates only: %d inserted, %d deleted, %d changed rows; want 0, 0, 1..%d", inserted, deleted, changed, tt.n)
			case tt.inserts+tt.updates == 0 && (deleted != tt.n || inserted != 0):
				t.Errorf("deletes only: %d deleted, %d inserted; want %d, 0", deleted, inserted, tt.n)
			}
			after, ch := snapshot(e, untouched, v0)
			if ch != 0 || len(after) != len(before[untouched]) {
				t.Errorf("%s, not in the feed, changed: %d rows changed, %d -> %d rows", untouched, ch, len(before[untouched]), len(after))
			}
		})
	}
}

// TestDrivePacing measures a paced feed: it never runs faster than Rate
// (ticks cannot come early, so that bound is tight) and keeps at least half
// of it (a loose bound: a busy machine drops ticks).
func TestDrivePacing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: measures pacing over more than a second")
	}
	const rate = 50.0
	tests := []struct {
		name string
		n    int           // changes to make; 0 = until the context ends
		stop time.Duration // context timeout when n is 0
	}{
		{"n changes", 60, 0},
		{"until cancelled", 0, 1200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(Options{Records: 50, RandSeed: 8})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.stop > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.stop)
				defer cancel()
			}
			start := time.Now()
			st, err := e.Drive(ctx, DriveOptions{Entities: []string{"account", "contact"}, Rate: rate}, tt.n)
			elapsed := time.Since(start)
			if tt.n > 0 && err != nil {
				t.Fatal(err)
			}
			if tt.n == 0 && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the context's deadline", err)
			}
			got := st.Inserts + st.Updates + st.Deletes
			if tt.n > 0 && got != tt.n {
				t.Fatalf("%d changes, want %d", got, tt.n)
			}
			want := rate * elapsed.Seconds()
			t.Logf("%d changes in %v (%.1f/s, configured %.0f/s)", got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds(), rate)
			if elapsed < time.Second {
				t.Fatalf("measured over %v, want at least 1 s", elapsed)
			}
			if float64(got) > want+1 {
				t.Errorf("%d changes in %v: faster than %.0f/s", got, elapsed, rate)
			}
			if float64(got) < 0.5*want {
				t.Errorf("%d changes in %v: less than half of %.0f/s", got, elapsed, rate)
			}
		})
	}
}
