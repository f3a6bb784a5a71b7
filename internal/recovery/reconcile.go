package recovery

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// ReconcileOptions tune a reconcile. Zero values are the defaults.
type ReconcileOptions struct {
	// Limit is how many ids of each kind (missing, extra, stale) the
	// report lists (default 20).
	Limit int
	// Buckets is how many ranges the ids are hashed into (default 4096).
	Buckets int
	// MaxDetailKeys bounds the keys held in memory to name the
	// differences (default 200,000): the differing buckets are examined
	// while their keys fit.
	MaxDetailKeys int
}

// ReconcileReport says where an entity's table differs from the source,
// by (id, versionnumber) only: no other column is read.
type ReconcileReport struct {
	Profile string `json:"profile"`
	Entity  string `json:"entity"`
	Table   string `json:"table"`
	// SourceRows and DestinationRows are the row counts of each side.
	SourceRows      int64 `json:"sourceRows"`
	DestinationRows int64 `json:"destinationRows"`
	// Equal: every bucket's count and checksum of (id, version) agree.
	Equal bool `json:"equal"`
	// Buckets is how many hash ranges the ids fell into;
	// DifferingBuckets how many of them differ.
	Buckets          int `json:"buckets"`
	DifferingBuckets int `json:"differingBuckets"`
	// Missing: in the source, not in the destination. Extra: in the
	// destination, not in the source. Stale: in both, at other versions.
	// Each lists the first Limit ids (by id); the counts are exact over
	// the buckets examined (Complete: all differing ones).
	Missing      []string   `json:"missing"`
	Extra        []string   `json:"extra"`
	Stale        []StaleRow `json:"stale"`
	MissingCount int        `json:"missingCount"`
	ExtraCount   int        `json:"extraCount"`
	StaleCount   int        `json:"staleCount"`
	// DestinationAhead counts the stale rows whose destination version is
	// the higher: a source's versions only grow, so the source went back
	// (an environment restored or reset), which no read repairs: the rows
	// written since carry versions the destination already holds.
	DestinationAhead int  `json:"destinationAhead"`
	Complete         bool `json:"complete"`
	// Note says how to read the report.
	Note string `json:"note,omitempty"`
}

// StaleRow is a row whose version differs between the two sides.
type StaleRow struct {
	ID                 string `json:"id"`
	SourceVersion      int64  `json:"sourceVersion"`
	DestinationVersion int64  `json:"destinationVersion"`
}

// Defaults of ReconcileOptions.
const (
	defaultReconcileLimit = 20
	defaultBuckets        = 4096
	defaultMaxDetailKeys  = 200_000
)

// bucketSums is the count and the checksum of (id, version) per bucket:
// the checksum is the sum of a 64-bit hash of each pair, so it does not
// depend on the order the keys arrive in.
type bucketSums struct {
	count []int64
	sum   []uint64
	rows  int64
}

func newSums(n int) *bucketSums { return &bucketSums{count: make([]int64, n), sum: make([]uint64, n)} }

// bucket places an id by a hash of its canonical lowercase text, never by
// its position in a stream: SQL Server and PostgreSQL order GUIDs
// differently, and Dataverse as SQL Server does.
func bucket(id string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int(h.Sum64() % uint64(n))
}

func pairHash(id string, v int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	h.Write([]byte{':'})
	h.Write(strconv.AppendInt(nil, v, 10))
	return h.Sum64()
}

func (b *bucketSums) add(id string, v int64) int {
	i := bucket(id, len(b.count))
	b.count[i]++
	b.sum[i] += pairHash(id, v)
	b.rows++
	return i
}

// Reconcile compares an entity's table with the source by key and
// version: the source's keys are read with a keys read (a page of keys at
// a time, through the client's rate limit), the table's with a streaming
// key scan; both are summed per hash bucket (count and checksum). Where
// buckets differ, their keys are read again and compared one by one, as
// many buckets as MaxDetailKeys allows, to name the missing, extra and
// stale ids. Memory holds the bucket sums and the keys of the buckets
// examined, whatever the size of the table. Changes arriving while it runs
// show as differences; run it again to tell them from real ones.
func (s *Service) Reconcile(ctx context.Context, p profile.Profile, entity string, o ReconcileOptions) (ReconcileReport, error) {
	if o.Limit <= 0 {
		o.Limit = defaultReconcileLimit
	}
	if o.Buckets <= 0 {
		o.Buckets = defaultBuckets
	}
	if o.MaxDetailKeys <= 0 {
		o.MaxDetailKeys = defaultMaxDetailKeys
	}
	table := dsync.TableName(p, entity)
	rep := ReconcileReport{Profile: p.Name, Entity: entity, Table: table.String(), Buckets: o.Buckets,
		Missing: []string{}, Extra: []string{}, Stale: []StaleRow{}}
	meta, err := s.d.Source.Entity(ctx, entity)
	if err != nil {
		return rep, fmt.Errorf("reading the definition of %s: %w", entity, err)
	}
	dest, err := s.d.Destinations.Sink(ctx, p)
	if err != nil {
		return rep, fmt.Errorf("opening the destination: %w", err)
	}
	ks, ok := dest.(sink.KeyScanner)
	if !ok {
		return rep, fmt.Errorf("the %s destination cannot scan keys", p.Destination.Type)
	}

	// Pass 1: the sums of both sides. The source's keys are kept while they
	// fit, which spares a second read of a small entity.
	src := newSums(o.Buckets)
	kept := map[string]int64{}
	err = s.sourceKeys(ctx, meta, func(id string, v int64) {
		src.add(id, v)
		if kept != nil {
			kept[id] = v
			if len(kept) > o.MaxDetailKeys {
				kept = nil
			}
		}
	})
	if err != nil {
		return rep, err
	}
	dst := newSums(o.Buckets)
	if err := ks.ScanKeys(ctx, table, func(id string, v int64) error { dst.add(id, v); return nil }); err != nil {
		return rep, fmt.Errorf("scanning the keys of %s: %w", table, err)
	}
	rep.SourceRows, rep.DestinationRows = src.rows, dst.rows
	var differ []int
	for i := range o.Buckets {
		if src.count[i] != dst.count[i] || src.sum[i] != dst.sum[i] {
			differ = append(differ, i)
		}
	}
	rep.DifferingBuckets = len(differ)
	if len(differ) == 0 {
		rep.Equal, rep.Complete = true, true
		return rep, nil
	}

	// Pass 2: the keys of as many differing buckets as fit.
	examine := map[int]bool{}
	held := int64(0)
	for _, i := range differ {
		n := src.count[i] + dst.count[i]
		if len(examine) > 0 && held+n > int64(o.MaxDetailKeys) {
			break
		}
		examine[i] = true
		held += n
	}
	rep.Complete = len(examine) == len(differ)
	if kept == nil {
		kept = map[string]int64{}
		err := s.sourceKeys(ctx, meta, func(id string, v int64) {
			if examine[bucket(id, o.Buckets)] {
				kept[id] = v
			}
		})
		if err != nil {
			return rep, err
		}
	} else {
		for id := range kept {
			if !examine[bucket(id, o.Buckets)] {
				delete(kept, id)
			}
		}
	}
	var missing, extra []string
	var stale []StaleRow
	err = ks.ScanKeys(ctx, table, func(id string, v int64) error {
		if !examine[bucket(id, o.Buckets)] {
			return nil
		}
		sv, ok := kept[id]
		switch {
		case !ok:
			extra = append(extra, id)
		case sv != v:
			stale = append(stale, StaleRow{ID: id, SourceVersion: sv, DestinationVersion: v})
			if v > sv {
				rep.DestinationAhead++
			}
		}
		delete(kept, id)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("scanning the keys of %s: %w", table, err)
	}
	for id := range kept {
		missing = append(missing, id)
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.SortFunc(stale, func(a, b StaleRow) int { return strings.Compare(a.ID, b.ID) })
	rep.MissingCount, rep.ExtraCount, rep.StaleCount = len(missing), len(extra), len(stale)
	rep.Missing = append(rep.Missing, missing[:min(len(missing), o.Limit)]...)
	rep.Extra = append(rep.Extra, extra[:min(len(extra), o.Limit)]...)
	rep.Stale = append(rep.Stale, stale[:min(len(stale), o.Limit)]...)
	switch {
	case rep.DestinationAhead > 0:
		rep.Note = fmt.Sprintf("%d rows are at a higher version in the destination than in the source: the source's versions went back (an environment restored, copied or reset), and rows written there since are not applied over them; re-baseline the entity (drop its table and read it again)", rep.DestinationAhead)
	case !rep.Complete:
		rep.Note = fmt.Sprintf("%d of %d differing buckets examined (the rest hold more keys than MaxDetailKeys allows in memory); the counts cover those examined", len(examine), len(differ))
	default:
		rep.Note = "changes applied while the reconcile ran show as differences: run it again to confirm"
	}
	return rep, nil
}

// sourceKeys streams every (id, version) of the entity from the source.
func (s *Service) sourceKeys(ctx context.Context, meta *dataverse.Entity, fn func(id string, v int64)) error {
	pager := s.d.Source.NewKeysPager(meta, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("reading the keys of %s from Dataverse: %w", meta.LogicalName, err)
		}
		for _, k := range page.Keys {
			fn(strings.ToLower(k.ID), k.Version)
		}
	}
	return nil
}
