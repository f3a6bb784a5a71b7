package manage

import (
	"context"
	"time"

	"github.com/dataexport/dataexport/internal/state"
)

// Progress is how far an entity's initial sync (its full read) has come.
type Progress struct {
	// Complete: every row of the full read is at the destination (phase
	// delta, and nothing pending or as many rows done as the source has).
	Complete bool `json:"complete"`
	// RowsDone counts the rows processed at the destination: applied or
	// kept as failed records.
	RowsDone int64 `json:"rowsDone"`
	// SourceRows is the entity's size in Dataverse, from
	// RetrieveTotalRecordCount: a snapshot up to 24 hours old, so an
	// estimate (absent when it could not be read).
	SourceRows *int64 `json:"sourceRows,omitempty"`
	// Percent is RowsDone of SourceRows, at most 99.9 until Complete (the
	// snapshot may be older than the rows), 100 when Complete.
	Percent *float64 `json:"percent,omitempty"`
	// RowsPerMinute is the rate over the last five whole minutes (from the
	// metrics; absent before a minute is over), ETASeconds the time left
	// at that rate.
	RowsPerMinute *float64 `json:"rowsPerMinute,omitempty"`
	ETASeconds    *float64 `json:"etaSeconds,omitempty"`
}

// countsTTL is how long a source count is reused: the function answers
// from a daily snapshot, and a status page polls every few seconds.
const countsTTL = time.Minute

type sourceCount struct {
	n  int64
	at time.Time
}

// sourceCounts returns the cached or fresh row counts of entities; an
// entity missing from the answer has no count (the source could not say).
func (s *Service) sourceCounts(ctx context.Context, entities []string) map[string]int64 {
	out := map[string]int64{}
	if s.d.Counts == nil || len(entities) == 0 {
		return out
	}
	now := s.o.Now()
	var missing []string
	s.countsMu.Lock()
	for _, e := range entities {
		if c, ok := s.counts[e]; ok && now.Sub(c.at) < countsTTL {
			out[e] = c.n
		} else {
			missing = append(missing, e)
		}
	}
	s.countsMu.Unlock()
	if len(missing) == 0 {
		return out
	}
	got, err := s.d.Counts.RecordCounts(ctx, missing)
	if err != nil {
		s.o.Logger.Warn("counting the source's rows for the initial sync progress failed", "entities", missing, "err", err)
		return out
	}
	s.countsMu.Lock()
	if s.counts == nil {
		s.counts = map[string]sourceCount{}
	}
	for e, n := range got {
		s.counts[e] = sourceCount{n, now}
		out[e] = n
	}
	s.countsMu.Unlock()
	return out
}

// rateWindow is the span the rate of an initial sync is measured over.
const rateWindow = 5 * time.Minute

// progress fills es.Progress. total < 0: unknown.
func (s *Service) progress(ctx context.Context, name string, es *EntityStatus, total int64) {
	p := &Progress{RowsDone: es.RowsApplied + es.Failed}
	es.Progress = p
	// The full read is over (phase delta) and its rows are all applied:
	// nothing pending, or, while later changes are on their way, at least
	// as many rows done as the source holds (else a busy org's initial
	// sync would seem to start again with every change read).
	if es.Phase == state.PhaseDelta && (es.Pending == 0 || (total >= 0 && p.RowsDone >= total)) {
		p.Complete = true
		hundred := 100.0
		p.Percent = &hundred
		return
	}
	if total >= 0 {
		p.SourceRows = &total
		pct := 0.0
		if total > 0 {
			pct = min(float64(p.RowsDone)/float64(total)*100, 99.9)
		}
		p.Percent = &pct
	}
	if s.d.Metrics == nil {
		return
	}
	now := s.o.Now().UTC()
	end := now.Truncate(time.Minute) // minutes before this one are over
	pts, err := s.d.Metrics.Series(ctx, name, es.Entity, end.Add(-rateWindow))
	if err != nil {
		s.o.Logger.Warn("reading the metrics for the initial sync rate failed", "profile", name, "entity", es.Entity, "err", err)
		return
	}
	var sum int64
	seen := false
	for _, pt := range pts {
		if pt.Minute.Before(end) {
			sum += pt.Applied + pt.Failed
			seen = true
		}
	}
	if !seen {
		return
	}
	rate := float64(sum) / rateWindow.Minutes()
	p.RowsPerMinute = &rate
	if p.SourceRows != nil && rate > 0 {
		eta := max(float64(*p.SourceRows-p.RowsDone), 0) / rate * 60
		p.ETASeconds = &eta
	}
}
