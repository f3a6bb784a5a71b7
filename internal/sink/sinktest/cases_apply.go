package sinktest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

func testRoundTrip(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	first := upserts(f.cols, 0, 10, 1)
	assertResult(t, "insert", f.apply(t, f.batch(first)), sink.Result{Upserted: 10})
	f.assertRows(t, first)

	// Every value changes, nulls become values and values nulls.
	second := make([]record.Record, len(first))
	for i := range first {
		second[i] = record.Record{ID: first[i].ID, Version: 2, Values: values(f.cols, i+1)}
	}
	assertResult(t, "update", f.apply(t, f.batch(second)), sink.Result{Upserted: 10})
	f.assertRows(t, second)

	// Non-canonical decimal text and uppercase GUIDs are the same values.
	r := record.Record{ID: "ABCDEF00-0000-4000-8000-00000000000A", Version: 1, Values: values(f.cols, 3)}
	for i, c := range f.cols {
		switch c.Name {
		case "revenue":
			r.Values[i] = record.DecimalValue("0020.50")
		case "exchangerate":
			r.Values[i] = record.DecimalValue("1.5E-3")
		case "ownerid":
			r.Values[i] = record.GUIDValue("ABCDEF00-0000-4000-8000-0000000000FF")
		}
	}
	f.apply(t, f.batch([]record.Record{r}))
	got, err := f.s.Rows(t.Context(), f.table.TableName, f.cols)
	if err != nil {
		t.Fatal(err)
	}
	// Scan streams what Rows returns, in the same order, and stops at the
	// callback's error.
	var n int
	stop := errors.New("stop")
	err = f.s.Scan(t.Context(), f.table.TableName, f.cols, func(r record.Record) error {
		if r.ID != got[n].ID || r.Version != got[n].Version || !slices.EqualFunc(r.Values, got[n].Values, record.Value.Equal) {
			t.Errorf("Scan row %d is %s, Rows says %s", n, r.ID, got[n].ID)
		}
		if n++; n == 8 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 8 {
		t.Errorf("Scan = %v after %d rows, want the callback's error after 8", err, n)
	}
	last := got[len(got)-1]
	if last.ID != "abcdef00-0000-4000-8000-00000000000a" {
		t.Fatalf("id read back as %q, want lowercase", last.ID)
	}
	for i, c := range f.cols {
		want := map[string]string{"revenue": "20.5", "exchangerate": "0.0015", "ownerid": "abcdef00-0000-4000-8000-0000000000ff"}[c.Name]
		if want != "" && last.Values[i].S != want {
			t.Errorf("%s read back as %q, want %q", c.Name, last.Values[i].S, want)
		}
	}
}

// rv is record n at version v; its values depend on both.
type rv struct {
	n int
	v int64
}

func (f *fixture) rec(x rv) record.Record {
	return record.Record{ID: guid(x.n), Version: x.v, Values: values(f.cols, x.n+10*int(x.v))}
}

func (f *fixture) recs(xs ...rv) []record.Record {
	out := make([]record.Record, len(xs))
	for i, x := range xs {
		out[i] = f.rec(x)
	}
	return out
}

func del(n int, v int64) record.Delete { return record.Delete{ID: guid(n), Version: v} }

func testSemantics(t *testing.T, open Opener) {
	type step struct {
		ups  []rv
		dels []record.Delete
		want sink.Result
	}
	tests := []struct {
		name  string
		steps []step
		rows  []rv
		tombs map[int]int64
	}{
		{"same message twice", []step{
			{ups: []rv{{1, 1}}, want: sink.Result{Upserted: 1}},
			{ups: []rv{{1, 1}}, want: sink.Result{Skipped: 1}},
		}, []rv{{1, 1}}, nil},
		{"newer version updates", []step{
			{ups: []rv{{1, 1}}, want: sink.Result{Upserted: 1}},
			{ups: []rv{{1, 2}}, want: sink.Result{Upserted: 1}},
		}, []rv{{1, 2}}, nil},
		{"two versions in reverse order", []step{
			{ups: []rv{{1, 2}}, want: sink.Result{Upserted: 1}},
			{ups: []rv{{1, 1}}, want: sink.Result{Skipped: 1}},
		}, []rv{{1, 2}}, nil},
		{"delete then late older upsert stays deleted", []step{
			{ups: []rv{{1, 1}}, want: sink.Result{Upserted: 1}},
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1}},
			{ups: []rv{{1, 3}}, want: sink.Result{Skipped: 1}},
		}, nil, map[int]int64{1: 5}},
		{"upsert at the tombstone version is dropped", []step{
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1}},
			{ups: []rv{{1, 5}}, want: sink.Result{Skipped: 1}},
		}, nil, map[int]int64{1: 5}},
		{"delete at the stored row's version removes it", []step{
			{ups: []rv{{1, 5}}, want: sink.Result{Upserted: 1}},
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1}},
			{ups: []rv{{1, 5}}, want: sink.Result{Skipped: 1}},
		}, nil, map[int]int64{1: 5}},
		{"delete older than the stored row leaves it", []step{
			{ups: []rv{{1, 10}}, want: sink.Result{Upserted: 1}},
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1}},
		}, []rv{{1, 10}}, map[int]int64{1: 5}},
		{"upsert newer than the tombstone recreates", []step{
			{ups: []rv{{1, 1}}, want: sink.Result{Upserted: 1}},
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1}},
			{ups: []rv{{1, 6}}, want: sink.Result{Upserted: 1}},
		}, []rv{{1, 6}}, map[int]int64{1: 5}},
		{"duplicates within a batch: highest wins", []step{
			{ups: []rv{{1, 1}, {1, 3}, {1, 2}}, want: sink.Result{Upserted: 1, Skipped: 2}},
		}, []rv{{1, 3}}, nil},
		{"delete and older upsert in one batch", []step{
			{ups: []rv{{1, 3}}, dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1, Skipped: 1}},
		}, nil, map[int]int64{1: 5}},
		{"delete and newer upsert in one batch", []step{
			{ups: []rv{{1, 5}}, dels: []record.Delete{del(1, 3)}, want: sink.Result{Upserted: 1, Deleted: 1}},
		}, []rv{{1, 5}}, map[int]int64{1: 3}},
		{"delete replayed and reordered", []step{
			{ups: []rv{{1, 1}}, want: sink.Result{Upserted: 1}},
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{Deleted: 1}},
			{dels: []record.Delete{del(1, 5)}, want: sink.Result{}},
			{dels: []record.Delete{del(1, 3), del(1, 4)}, want: sink.Result{}},
		}, nil, map[int]int64{1: 5}},
		{"delete of an id never seen", []step{
			{dels: []record.Delete{del(2, 7)}, want: sink.Result{Deleted: 1}},
		}, nil, map[int]int64{2: 7}},
		{"mixed batch", []step{
			{ups: []rv{{1, 1}, {2, 1}, {3, 1}}, want: sink.Result{Upserted: 3}},
			{ups: []rv{{1, 2}, {2, 1}, {4, 1}}, dels: []record.Delete{del(3, 2)}, want: sink.Result{Upserted: 2, Skipped: 1, Deleted: 1}},
		}, []rv{{1, 2}, {2, 1}, {4, 1}}, map[int]int64{3: 2}},
	}
	s := open(t, sink.Options{})
	for i, tc := range tests {
		// Narrow: the table has a column the batches do not carry (kept
		// from a removed attribute), which a dialect may write by another
		// path than a batch of every column; the rules are the same.
		for _, narrow := range []bool{false, true} {
			name, table := tc.name, fmt.Sprintf("sem%d", i)
			if narrow {
				name, table = name+" (narrow batch)", table+"n"
			}
			t.Run(name, func(t *testing.T) {
				f := addFixture(t, s, Account(table))
				if narrow {
					addFixture(t, s, evolved(table, func(e *dataverse.Entity) {
						e.Attributes = append(e.Attributes, attr("new_kept", dataverse.TypeString, maxLen(20)))
					}))
				}
				for j, st := range tc.steps {
					got := f.apply(t, f.batch(f.recs(st.ups...), st.dels...))
					assertResult(t, fmt.Sprintf("step %d", j+1), got, st.want)
				}
				f.assertRows(t, f.recs(tc.rows...))
				tombs := map[string]int64{}
				for n, v := range tc.tombs {
					tombs[guid(n)] = v
				}
				f.assertTombstones(t, tombs)
			})
		}
	}
}

// testOrderFree applies one set of changes in several random orders and
// batchings; every table must end as the model says: a row at the highest
// upsert version if that beats the highest delete, tombstone at the latter.
func testOrderFree(t *testing.T, open Opener) {
	type msg struct {
		up  *rv
		del *record.Delete
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var msgs []msg
	maxUp, maxDel := map[int]int64{}, map[int]int64{}
	for n := range 6 {
		for range 1 + rng.IntN(4) {
			v := int64(1 + rng.IntN(9))
			if rng.IntN(3) == 0 {
				d := del(n, v)
				msgs = append(msgs, msg{del: &d})
				maxDel[n] = max(maxDel[n], v)
			} else {
				msgs = append(msgs, msg{up: &rv{n, v}})
				maxUp[n] = max(maxUp[n], v)
			}
		}
	}
	// Every message twice: delivery is at-least-once.
	msgs = append(msgs, msgs...)
	s := open(t, sink.Options{})
	for round := range 4 {
		f := addFixture(t, s, Account(fmt.Sprintf("order%d", round)))
		rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
		for i := 0; i < len(msgs); {
			k := 1 + rng.IntN(round*3+1) // round 0: one message per batch
			var b record.Batch = f.batch(nil)
			for _, m := range msgs[i:min(i+k, len(msgs))] {
				if m.up != nil {
					b.Upserts = append(b.Upserts, f.rec(*m.up))
				} else {
					b.Deletes = append(b.Deletes, *m.del)
				}
			}
			f.apply(t, b)
			i += k
		}
		var want []rv
		tombs := map[string]int64{}
		for n := range 6 {
			if maxUp[n] > maxDel[n] {
				want = append(want, rv{n, maxUp[n]})
			}
			if maxDel[n] > 0 {
				tombs[guid(n)] = maxDel[n]
			}
		}
		f.assertRows(t, f.recs(want...))
		f.assertTombstones(t, tombs)
	}
}

func testTablesIndependent(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	a := addFixture(t, s, Account("account"))
	c := addFixture(t, s, Account("contact"))
	a.apply(t, a.batch(nil, del(1, 5)))
	assertResult(t, "same id in another table", c.apply(t, c.batch(c.recs(rv{1, 1}))), sink.Result{Upserted: 1})
	c.assertRows(t, c.recs(rv{1, 1}))
	c.assertTombstones(t, map[string]int64{})
	a.assertTombstones(t, map[string]int64{guid(1): 5})
}

func testLargeBatch(t *testing.T, open Opener) {
	const n = 5000
	f := newFixture(t, open, sink.Options{}, Account("account"))
	assertResult(t, "insert", f.apply(t, f.batch(upserts(f.cols, 0, n, 2))), sink.Result{Upserted: n})
	// Half newer, half older; a quarter of the ids deleted at a version
	// between.
	var ups []record.Record
	var dels []record.Delete
	var want []record.Record
	for i := range n {
		switch {
		case i%2 == 0:
			r := f.rec(rv{i, 3})
			ups = append(ups, r)
			want = append(want, r)
		case i%4 == 1:
			ups = append(ups, f.rec(rv{i, 1}))
			want = append(want, record.Record{ID: guid(i), Version: 2, Values: values(f.cols, i)})
		default:
			dels = append(dels, del(i, 4))
		}
	}
	got := f.apply(t, f.batch(ups, dels...))
	assertResult(t, "mixed", got, sink.Result{Upserted: n / 2, Skipped: n / 4, Deleted: n / 4})
	if c, err := f.s.Count(t.Context(), f.table.TableName); err != nil || c != int64(len(want)) {
		t.Fatalf("Count = %d, %v; want %d", c, err, len(want))
	}
	f.assertRows(t, want)
}
