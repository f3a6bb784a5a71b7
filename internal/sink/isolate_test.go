package sink

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

func gid(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", n) }

// fakeWriter writes a part all or nothing: it fails on the first bad id
// (optionally saying where, like a COPY), and otherwise records the ids.
type fakeWriter struct {
	bad     map[string]bool
	hint    bool
	calls   int
	written []string
	failAt  int   // fail with err on this call (1-based) ...
	err     error // ... with this error
}

func (w *fakeWriter) write(_ context.Context, p Prepared) (Result, error) {
	w.calls++
	if w.calls == w.failAt {
		return Result{}, w.err
	}
	for i, d := range p.Deletes {
		if w.bad[d.ID] {
			return Result{}, w.fail(true, i)
		}
	}
	for i, r := range p.Upserts {
		if w.bad[r.ID] {
			return Result{}, w.fail(false, i)
		}
	}
	for _, d := range p.Deletes {
		w.written = append(w.written, "d"+d.ID)
	}
	for _, r := range p.Upserts {
		w.written = append(w.written, r.ID)
	}
	return Result{Upserted: len(p.Upserts), Deleted: len(p.Deletes)}, nil
}

func (w *fakeWriter) fail(del bool, i int) error {
	err := errclass.With(errclass.Record, errors.New("check constraint violated"))
	if w.hint {
		return &FailedAt{Delete: del, Index: i, Err: err}
	}
	return err
}

func prepared(n int, dels int) Prepared {
	p := Prepared{Table: schema.TableName{Name: "t"}}
	for i := range dels {
		p.Deletes = append(p.Deletes, record.Delete{ID: gid(100000 + i), Version: 1})
	}
	for i := range n {
		p.Upserts = append(p.Upserts, record.Record{ID: gid(i), Version: 1})
	}
	return p
}

func TestIsolate(t *testing.T) {
	const n = 5000
	log2 := bits.Len(uint(n))
	tests := []struct {
		name      string
		bad       []string
		hint      bool
		maxWrites int
	}{
		{"clean batch: one write", nil, false, 1},
		{"one bad record, bisection: O(log n) writes", []string{gid(3137)}, false, 2*log2 + 1},
		{"one bad record at the start", []string{gid(0)}, false, 2*log2 + 1},
		{"one bad record at the end", []string{gid(n - 1)}, false, 2*log2 + 1},
		{"one bad record located by the write: four writes", []string{gid(3137)}, true, 4},
		{"three bad records, bisection", []string{gid(1), gid(2500), gid(4999)}, false, 3 * (2*log2 + 1)},
		{"three bad records located", []string{gid(1), gid(2500), gid(4999)}, true, 3 * 4},
		{"a bad delete", []string{gid(100001)}, false, 2*log2 + 1},
		{"many bad records located: bisection takes over", func() (b []string) {
			for i := 0; i < n; i += 50 {
				b = append(b, gid(i))
			}
			return b
		}(), true, 100 * (2*log2 + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWriter{bad: map[string]bool{}, hint: tt.hint}
			for _, id := range tt.bad {
				w.bad[id] = true
			}
			p := prepared(n, 3)
			res, err := Isolate(t.Context(), p, w.write)
			if err != nil {
				t.Fatal(err)
			}
			var rejected []string
			for _, r := range res.Rejected {
				rejected = append(rejected, r.ID)
				if r.Class != errclass.Record || r.Err == nil || r.Version != 1 || r.Delete != (r.ID >= gid(100000)) {
					t.Errorf("rejection %+v", r)
				}
			}
			slices.Sort(rejected)
			want := slices.Sorted(slices.Values(tt.bad))
			if !slices.Equal(rejected, want) {
				t.Fatalf("rejected %v, want %v", rejected, want)
			}
			if len(w.written) != n+3-len(tt.bad) || res.Upserted+res.Deleted != len(w.written) {
				t.Fatalf("%d written (result %+v), want every one of the %d good changes", len(w.written), res.Counts(), n+3-len(tt.bad))
			}
			if w.calls > tt.maxWrites {
				t.Errorf("%d writes, want at most %d", w.calls, tt.maxWrites)
			}
			t.Logf("%d writes", w.calls)
		})
	}
}

// A transient error while isolating ends Isolate with that error; what was
// written stays written (apply is idempotent, the message comes back).
func TestIsolateStopsOnOtherErrors(t *testing.T) {
	for _, c := range []errclass.Class{errclass.Transient, errclass.Schema, errclass.Unknown} {
		w := &fakeWriter{bad: map[string]bool{gid(10): true}, failAt: 3, err: errclass.With(c, errors.New("connection reset"))}
		_, err := Isolate(t.Context(), prepared(100, 0), w.write)
		if errclass.Of(err) != c || w.calls != 3 {
			t.Errorf("%s error on the third write: Isolate = %v after %d writes", c, err, w.calls)
		}
	}
	w := &fakeWriter{failAt: 1, err: errclass.With(errclass.Transient, errors.New("down"))}
	if _, err := Isolate(t.Context(), prepared(1, 0), w.write); errclass.Of(err) != errclass.Transient {
		t.Errorf("a single record with a transient error: %v, want the error, not a rejection", err)
	}
}

// A wrong location costs writes, never a good record.
func TestIsolateWrongHint(t *testing.T) {
	calls := 0
	write := func(_ context.Context, p Prepared) (Result, error) {
		calls++
		for _, r := range p.Upserts {
			if r.ID == gid(7) {
				return Result{}, &FailedAt{Index: 0, Err: errclass.With(errclass.Record, errors.New("bad"))}
			}
		}
		return Result{Upserted: len(p.Upserts)}, nil
	}
	res, err := Isolate(t.Context(), prepared(20, 0), write)
	if err != nil || len(res.Rejected) != 1 || res.Rejected[0].ID != gid(7) || res.Upserted != 19 {
		t.Fatalf("Isolate = %+v, %v; want 19 written and %s rejected", res, err, gid(7))
	}
}
