package dvemu

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// DriveOptions configures a change feed. The zero value drives account and
// contact as fast as possible with 20% inserts, 70% updates, 10% deletes.
type DriveOptions struct {
	Entities                  []string // logical names; nil = account, contact
	Rate                      float64  // changes per second; 0 = unpaced
	Inserts, Updates, Deletes int      // mix weights; all zero = 2:7:1
	Seed                      int64    // 0 = Options.RandSeed
}

// DriveStats counts the changes a Drive made.
type DriveStats struct {
	Inserts, Updates, Deletes int
}

// Drive makes n changes (n <= 0: until ctx ends) through the admin API, for
// tests and benchmarks. It returns ctx.Err() only when stopped early.
func (e *Emulator) Drive(ctx context.Context, opts DriveOptions, n int) (DriveStats, error) {
	var st DriveStats
	ents := opts.Entities
	if len(ents) == 0 {
		ents = []string{"account", "contact"}
	}
	for _, name := range ents {
		e.mu.RLock()
		_, ok := e.tables[name]
		e.mu.RUnlock()
		if !ok {
			return st, fmt.Errorf("%w: entity %q", ErrNotFound, name)
		}
	}
	wi, wu, wd := opts.Inserts, opts.Updates, opts.Deletes
	if wi+wu+wd == 0 {
		wi, wu, wd = 2, 7, 1
	}
	seed := opts.Seed
	if seed == 0 {
		seed = e.opts.RandSeed
	}
	r := rand.New(rand.NewPCG(uint64(seed), hash64("drive")))
	var tick *time.Ticker
	if opts.Rate > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / opts.Rate))
		defer tick.Stop()
	}
	for k := 0; n <= 0 || k < n; k++ {
		if tick != nil {
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-tick.C:
			}
		} else if err := ctx.Err(); err != nil {
			return st, err
		}
		entity := ents[r.IntN(len(ents))]
		x := r.IntN(wi + wu + wd)
		var err error
		switch {
		case x < wi:
			err = e.driveInsert(entity, r)
			st.Inserts++
		case x < wi+wu:
			var done bool
			if done, err = e.driveUpdate(entity, r); !done {
				err = e.driveInsert(entity, r)
				st.Inserts++
			} else {
				st.Updates++
			}
		default:
			var done bool
			if done, err = e.driveDelete(entity, r); !done {
				err = e.driveInsert(entity, r)
				st.Inserts++
			} else {
				st.Deletes++
			}
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// sampleValues generates a fresh row's values (admin forms) from a row
// index beyond the generated range.
func (e *Emulator) sampleValues(entity string, r *rand.Rand) map[string]any {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.tables[entity]
	vals := e.generate(t, t.n+r.IntN(1<<30))
	out := map[string]any{}
	for i := range t.def.Attributes[:t.baseAttrs] {
		a := &t.def.Attributes[i]
		if !a.stored() || a.IsPrimaryID || a.LogicalName == "versionnumber" || a.LogicalName == "createdon" || a.LogicalName == "modifiedon" || vals[i] == nil {
			continue
		}
		out[a.LogicalName] = vals[i]
	}
	return out
}

func (e *Emulator) driveInsert(entity string, r *rand.Rand) error {
	_, err := e.Create(entity, e.sampleValues(entity, r))
	return err
}

// liveID picks a random existing row, or "" after a few misses.
func (e *Emulator) liveID(entity string, r *rand.Rand) string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.tables[entity]
	for try := 0; try < 8; try++ {
		var id string
		if k := r.IntN(t.n + len(t.created)); k < t.n {
			id = baseID(e.opts.RandSeed, entity, k)
		} else {
			id = t.created[k-t.n]
		}
		if _, _, ok := e.row(t, id); ok {
			return id
		}
	}
	return ""
}

func (e *Emulator) driveUpdate(entity string, r *rand.Rand) (bool, error) {
	id := e.liveID(entity, r)
	if id == "" {
		return false, nil
	}
	vals := e.sampleValues(entity, r)
	// Change one or two columns, like a user editing a form.
	change := map[string]any{}
	for name, v := range vals {
		change[name] = v
		if len(change) >= 1+r.IntN(2) {
			break
		}
	}
	return true, e.Update(entity, id, change)
}

func (e *Emulator) driveDelete(entity string, r *rand.Rand) (bool, error) {
	id := e.liveID(entity, r)
	if id == "" {
		return false, nil
	}
	return true, e.Delete(entity, id)
}
