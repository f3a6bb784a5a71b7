package dvemu

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// TestReplicaConverges is the invariant a replicator relies on: applying an
// initial read and then every delta, while changes keep arriving, ends in
// exactly the org's state.
func TestReplicaConverges(t *testing.T) {
	for _, pageSize := range []int{7, 5000} {
		t.Run(itoa(pageSize), func(t *testing.T) {
			e, srv := newTestEmu(t, Options{Records: 60, RandSeed: 21, Faults: Faults{RequestLimit: -1}})
			replica := map[string]string{} // id -> name
			apply := func(rows []map[string]any) {
				for _, r := range rows {
					if r["reason"] == "deleted" {
						delete(replica, r["id"].(string))
						continue
					}
					name, _ := r["name"].(string)
					replica[r["accountid"].(string)] = name
				}
			}

			var wg sync.WaitGroup
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = e.Drive(ctx, DriveOptions{Entities: []string{"account"}}, 400)
			}()
			rows, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", pageSize, trackPrefer)
			apply(rows)
			for i := 0; i < 5; i++ {
				var more []map[string]any
				more, _, delta = readAll(t, srv, delta, pageSize)
				apply(more)
			}
			wg.Wait()
			rows, _, _ = readAll(t, srv, delta, pageSize)
			apply(rows)

			ids := e.IDs("account")
			got := make([]string, 0, len(replica))
			for id := range replica {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, ids) {
				t.Fatalf("replica has %d rows, org %d", len(got), len(ids))
			}
			for _, id := range ids {
				vals, _ := e.Get("account", id)
				if name, _ := vals["name"].(string); replica[id] != name {
					t.Fatalf("%s: replica name %q, org %q", id, replica[id], name)
				}
			}
		})
	}
}
