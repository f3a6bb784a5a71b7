package manage

import (
	"context"
	"fmt"
	"time"

	"github.com/dataexport/dataexport/internal/metrics"
)

// Metrics keeps each entity's activity per minute (internal/metrics).
type Metrics interface {
	Series(ctx context.Context, profile, entity string, since time.Time) ([]metrics.Point, error)
	DeleteProfile(ctx context.Context, profile string) (int, error)
}

// RecordCounter counts an entity's rows in the source
// (RetrieveTotalRecordCount: a snapshot up to 24 hours old).
type RecordCounter interface {
	RecordCounts(ctx context.Context, logicalNames []string) (map[string]int64, error)
}

// MaxMetricsHours is how far back Metrics reaches (the rows are kept 48 h).
const MaxMetricsHours = 48

// ProfileMetrics is a profile's activity per minute over a time window,
// what the web UI draws.
type ProfileMetrics struct {
	Profile string    `json:"profile"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	// BucketSeconds is the width of a point (60: one minute).
	BucketSeconds int             `json:"bucketSeconds"`
	Entities      []EntityMetrics `json:"entities"`
}

// EntityMetrics is one entity's minutes with activity, oldest first; a
// minute without a point had none.
type EntityMetrics struct {
	Entity string        `json:"entity"`
	Points []MetricPoint `json:"points"`
}

// MetricPoint is one minute.
type MetricPoint struct {
	Time time.Time `json:"time"`
	// Applied counts records and deletes processed at the destination,
	// Deleted the deletes among them, Failed the records kept as failed.
	Applied int64 `json:"applied"`
	Deleted int64 `json:"deleted"`
	Failed  int64 `json:"failed"`
	// LagSeconds is the latest lag measured in the minute, LagMaxSeconds
	// the largest (absent: no change was applied from a delta read).
	LagSeconds    *float64 `json:"lagSeconds,omitempty"`
	LagMaxSeconds *float64 `json:"lagMaxSeconds,omitempty"`
}

// Metrics returns a profile's activity per minute over the last hours
// (1 to MaxMetricsHours), per entity.
func (s *Service) Metrics(ctx context.Context, name string, hours int) (ProfileMetrics, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return ProfileMetrics{}, err
	}
	hours = min(max(hours, 1), MaxMetricsHours)
	to := s.o.Now().UTC()
	from := to.Add(-time.Duration(hours) * time.Hour).Truncate(time.Minute)
	out := ProfileMetrics{Profile: name, From: from, To: to, BucketSeconds: 60, Entities: []EntityMetrics{}}
	for _, ent := range p.Entities {
		em := EntityMetrics{Entity: ent, Points: []MetricPoint{}}
		if s.d.Metrics != nil {
			pts, err := s.d.Metrics.Series(ctx, name, ent, from)
			if err != nil {
				return ProfileMetrics{}, fmt.Errorf("reading the metrics of %s/%s: %w", name, ent, err)
			}
			for _, pt := range pts {
				mp := MetricPoint{Time: pt.Minute, Applied: pt.Applied, Deleted: pt.Deleted, Failed: pt.Failed}
				if pt.HasLag {
					l, m := pt.LagLast.Seconds(), pt.LagMax.Seconds()
					mp.LagSeconds, mp.LagMaxSeconds = &l, &m
				}
				em.Points = append(em.Points, mp)
			}
		}
		out.Entities = append(out.Entities, em)
	}
	return out, nil
}
