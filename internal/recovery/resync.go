package recovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	gosync "sync"

	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// ResyncOptions bound one resync of failed records. Zero values are the
// defaults.
type ResyncOptions struct {
	// Entity limits the resync to one entity ("" = every entity).
	Entity string
	// Max is the most failed records one run takes (default 5000), so a
	// run fits an HTTP request; Remaining says how many are left.
	Max int
	// Chunk is the ids read from Dataverse and applied at once (default
	// 1000).
	Chunk int
}

// ResyncReport is what a resync of failed records did.
type ResyncReport struct {
	Profile string `json:"profile"`
	// Resolved counts the failed records now applied (written, found
	// already newer in the destination, or applied as a delete): their
	// data/ blobs are gone.
	Resolved int `json:"resolved"`
	// FailedAgain counts the failed records the destination refused
	// again: each has a forcerefreshfailurelog/ line and keeps its data/
	// blob.
	FailedAgain int `json:"failedAgain"`
	// Skipped counts failed records left alone: of an entity the profile
	// no longer exports, or without a record id.
	Skipped int `json:"skipped"`
	// Remaining counts the failed records past Max: run it again.
	Remaining int `json:"remaining"`
	// OK: every entity could be resynced (none has an error).
	OK       bool             `json:"ok"`
	Entities []EntityResynced `json:"entities"`
}

// EntityResynced is one entity's part of a resync.
type EntityResynced struct {
	Entity string `json:"entity"`
	// Records counts the distinct records re-read (a record may have
	// failed more than once).
	Records     int `json:"records"`
	Resolved    int `json:"resolved"`
	FailedAgain int `json:"failedAgain"`
	// DeletedInSource counts the records the source no longer has,
	// applied as deletes.
	DeletedInSource int `json:"deletedInSource"`
	// Errors are why records failed again (the first few, one per line).
	Errors []string `json:"errors,omitempty"`
	// Err is why the entity could not be resynced at all (the source or
	// the destination cannot be reached, its metadata cannot be read).
	Err string `json:"error,omitempty"`
}

// defaults of ResyncOptions.
const (
	defaultMaxResync   = 5000
	defaultResyncChunk = 1000
	maxErrorLines      = 10
)

// ResyncFailures re-reads the failed records of p from Dataverse by id (in
// chunks, through the client's rate limit) and applies them as they are
// now: a record that now succeeds (or is found newer in the destination)
// has its data/ blob removed; one the destination refuses again gets a
// forcerefreshfailurelog/ line and keeps its blob; one deleted in the
// source meanwhile is applied as a delete, stamped with the entity's high
// water (above every version read of it), so nothing older brings it
// back. The entity's Failed Notifications counter comes down by the
// records resolved. An entity whose source or destination cannot be read
// is reported with its error and the others go on; the error returned
// joins them.
func (s *Service) ResyncFailures(ctx context.Context, p profile.Profile, o ResyncOptions) (ResyncReport, error) {
	if o.Max <= 0 {
		o.Max = defaultMaxResync
	}
	if o.Chunk <= 0 {
		o.Chunk = defaultResyncChunk
	}
	rep := ResyncReport{Profile: p.Name, Entities: []EntityResynced{}}
	// The failures to take, by entity and record id (lowercase).
	byEntity := map[string]map[string][]failures.Failure{}
	taken := 0
	for f, err := range s.d.Failures.List(ctx, p.Name, o.Entity) {
		if err != nil {
			return rep, fmt.Errorf("listing the failed records of %s: %w", p.Name, err)
		}
		id := strings.ToLower(f.RecordID)
		switch {
		case !slices.Contains(p.Entities, f.Entity) || !sink.IsGUID(id):
			rep.Skipped++
			continue
		case taken >= o.Max:
			rep.Remaining++
			continue
		}
		if byEntity[f.Entity] == nil {
			byEntity[f.Entity] = map[string][]failures.Failure{}
		}
		byEntity[f.Entity][id] = append(byEntity[f.Entity][id], f)
		taken++
	}
	var errs []error
	for _, entity := range sortedKeys(byEntity) {
		er, err := s.resyncEntity(ctx, p, entity, byEntity[entity], o.Chunk)
		if err != nil {
			er.Err = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", entity, err))
		}
		rep.Resolved += er.Resolved
		rep.FailedAgain += er.FailedAgain
		rep.Entities = append(rep.Entities, er)
	}
	rep.OK = len(errs) == 0
	s.o.Logger.Info("failed records resynced", "profile", p.Name, "resolved", rep.Resolved, "failedAgain", rep.FailedAgain, "skipped", rep.Skipped, "remaining", rep.Remaining)
	return rep, errors.Join(errs...)
}

func (s *Service) resyncEntity(ctx context.Context, p profile.Profile, entity string, byID map[string][]failures.Failure, chunk int) (EntityResynced, error) {
	er := EntityResynced{Entity: entity, Records: len(byID)}
	meta, err := s.d.Source.Entity(ctx, entity)
	if err != nil {
		return er, fmt.Errorf("reading the definition of %s: %w", entity, err)
	}
	dest, err := s.d.Destinations.Sink(ctx, p)
	if err != nil {
		return er, fmt.Errorf("opening the destination: %w", err)
	}
	table := dsync.TableName(p, entity)
	t, err := schema.Map(meta, schema.Options{Schema: table.Schema, Prefix: p.Prefix})
	if err != nil {
		return er, err
	}
	// The records are read with today's columns: the table must have them.
	if err := dest.EnsureTable(ctx, t); err != nil {
		return er, fmt.Errorf("ensuring table %s: %w", table, err)
	}
	var highWater int64
	if st, err := s.d.Entities.GetEntity(ctx, p.Name, entity); err == nil {
		highWater = st.HighWater
	} else if !errors.Is(err, state.ErrNotFound) {
		return er, fmt.Errorf("reading the state of %s: %w", entity, err)
	}
	ids := sortedKeys(byID)
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		cur, err := s.d.Source.RecordsByID(ctx, meta, part)
		if err != nil {
			return er, fmt.Errorf("reading %d records of %s by id: %w", len(part), entity, err)
		}
		b := record.Batch{Entity: entity, Columns: cur.Columns, Upserts: cur.Records}
		for _, id := range cur.Missing {
			// Deleted in the source: a delete above every version read.
			v := max(highWater, s.lastVersion(ctx, byID[id]))
			b.Deletes = append(b.Deletes, record.Delete{ID: id, Version: v})
		}
		res, err := dest.Apply(ctx, table, b)
		if err != nil {
			return er, fmt.Errorf("applying %d records of %s: %w", len(part), entity, err)
		}
		refused := map[string]error{}
		for _, r := range res.Rejected {
			refused[strings.ToLower(r.ID)] = r.Err
		}
		var resolved, again []failures.Failure
		reasons := map[string]string{}
		for _, id := range part {
			if err, bad := refused[id]; bad {
				again = append(again, byID[id]...)
				reasons[id] = err.Error()
				if len(er.Errors) < maxErrorLines {
					er.Errors = append(er.Errors, id+": "+err.Error())
				}
				continue
			}
			resolved = append(resolved, byID[id]...)
		}
		er.DeletedInSource += len(cur.Missing)
		// Log the failures again first: a run stopped between the two
		// steps leaves blobs to resync, never a record without a trace.
		if err := each(ctx, again, func(f failures.Failure) error {
			return s.d.Failures.LogResyncFailure(ctx, f, reasons[strings.ToLower(f.RecordID)])
		}); err != nil {
			return er, fmt.Errorf("writing forcerefreshfailurelog/: %w", err)
		}
		er.FailedAgain += len(again)
		if err := each(ctx, resolved, func(f failures.Failure) error { return s.d.Failures.Resolve(ctx, f) }); err != nil {
			return er, fmt.Errorf("clearing resolved failed records: %w", err)
		}
		er.Resolved += len(resolved)
		if err := s.countResolved(ctx, p.Name, entity, len(resolved), res); err != nil {
			s.o.Logger.Warn("updating the counters after a resync failed", "profile", p.Name, "entity", entity, "err", err)
		}
	}
	return er, nil
}

// lastVersion is the highest version the payloads of fs carry: the
// record's own messages, kept when it failed.
func (s *Service) lastVersion(ctx context.Context, fs []failures.Failure) int64 {
	var v int64
	for _, f := range fs {
		r, err := s.d.Failures.Open(ctx, f)
		if err != nil {
			continue
		}
		body, err := io.ReadAll(io.LimitReader(r, 8<<20))
		r.Close()
		if err != nil {
			continue
		}
		m, err := dsync.DecodeMessage(body)
		if err != nil {
			continue
		}
		for _, u := range m.Batch.Upserts {
			v = max(v, u.Version)
		}
		for _, d := range m.Batch.Deletes {
			v = max(v, d.Version)
		}
	}
	return v
}

// countResolved brings the Failed Notifications counter down by the
// records resolved (not below zero: blobs pruned by age leave the counter
// above them) and counts what was applied.
func (s *Service) countResolved(ctx context.Context, prof, entity string, resolved int, res sink.Result) error {
	c, err := s.d.Counters.GetCounters(ctx, prof, entity)
	if err != nil {
		return err
	}
	d := state.Counters{
		Failed:    -min(int64(resolved), c.Failed),
		Succeeded: int64(res.Upserted + res.Deleted), Deleted: int64(res.Deleted), Skipped: int64(res.Skipped),
	}
	if d.Failed == 0 && d.Succeeded == 0 && d.Skipped == 0 {
		return nil
	}
	// Applied now: the entity's last apply error (the refusal that made
	// these failed records) is behind it.
	d.LastApplied = s.o.Now().UTC()
	return s.d.Counters.AddCounters(ctx, prof, entity, d)
}

// each runs fn on every item, a few at a time.
func each(ctx context.Context, items []failures.Failure, fn func(failures.Failure) error) error {
	errs := make([]error, len(items))
	sem := make(chan struct{}, 8)
	var wg gosync.WaitGroup
	for i, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(it)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
