// Package metrics keeps what the web UI draws: per profile and entity, one
// Table storage row per minute with activity (rows applied, deleted and
// failed, the lag of the changes applied), written at most once per minute
// by each applier process (Recorder) and pruned after Retention. The rows
// are bounded by entities × minutes kept, whatever the traffic.
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/dataexport/dataexport/internal/state"
)

// DefaultTable is the metrics table's name (app setting STATE_METRICS_TABLE).
const DefaultTable = "metrics"

// Retention is how long minute rows are kept.
const Retention = 48 * time.Hour

// Point is one entity's activity in one minute (UTC, truncated).
type Point struct {
	Minute time.Time
	// Applied counts the records and deletes processed at the destination
	// (written, or already there in a newer version); Deleted the deletes
	// among them; Failed the records kept as failed records.
	Applied, Deleted, Failed int64
	// LagLast is the latest lag measured in the minute (change at the source
	// to its arrival), LagMax the largest; both zero when HasLag is false
	// (no delta batch was applied).
	LagLast, LagMax time.Duration
	HasLag          bool
}

// add merges q (of the same minute) into p.
func (p Point) add(q Point, qLater bool) Point {
	p.Applied += q.Applied
	p.Deleted += q.Deleted
	p.Failed += q.Failed
	if q.HasLag {
		if !p.HasLag || qLater {
			p.LagLast = q.LagLast
		}
		if !p.HasLag || q.LagMax > p.LagMax {
			p.LagMax = q.LagMax
		}
		p.HasLag = true
	}
	return p
}

// Store reads and writes the minute rows: PartitionKey the profile, RowKey
// <entity>~<yyyyMMddHHmm>, so that one entity's minutes are a key range.
type Store struct {
	t *aztables.Client
}

// NewStore opens the table (creating it when missing). An empty name is
// DefaultTable.
func NewStore(ctx context.Context, svc *aztables.ServiceClient, table string) (*Store, error) {
	if svc == nil {
		return nil, errors.New("metrics: nil table service client")
	}
	if table == "" {
		table = DefaultTable
	}
	if _, err := svc.CreateTable(ctx, table, nil); err != nil && !state.HasCode(err, aztables.TableAlreadyExists) {
		return nil, fmt.Errorf("metrics: creating table %q: %w", table, err)
	}
	return &Store{t: svc.NewClient(table)}, nil
}

const minuteLayout = "200601021504"

func rowKey(entity string, minute time.Time) string {
	return entity + "~" + minute.UTC().Format(minuteLayout)
}

type row struct {
	PartitionKey string  `json:"PartitionKey"`
	RowKey       string  `json:"RowKey"`
	Applied      int64   `json:"Applied"`
	Deleted      int64   `json:"Deleted"`
	Failed       int64   `json:"Failed"`
	LagLastMs    *int64  `json:"LagLastMs,omitempty"`
	LagMaxMs     *int64  `json:"LagMaxMs,omitempty"`
	ODataETag    string  `json:"odata.etag,omitempty"`
	Timestamp    *string `json:"Timestamp,omitempty"`
}

// ms keeps a duration in an Edm.Int32 (a plain JSON number), as the row
// holds counts and milliseconds without type annotations.
func ms(d time.Duration) *int64 {
	v := min(d.Milliseconds(), math.MaxInt32)
	return &v
}

func (r row) point() (Point, error) {
	_, stamp, ok := strings.Cut(r.RowKey, "~")
	m, err := time.Parse(minuteLayout, stamp)
	if !ok || err != nil {
		return Point{}, fmt.Errorf("metrics: row %q is not <entity>~<minute>", r.RowKey)
	}
	p := Point{Minute: m.UTC(), Applied: r.Applied, Deleted: r.Deleted, Failed: r.Failed}
	if r.LagLastMs != nil && r.LagMaxMs != nil {
		p.HasLag = true
		p.LagLast = time.Duration(*r.LagLastMs) * time.Millisecond
		p.LagMax = time.Duration(*r.LagMaxMs) * time.Millisecond
	}
	return p, nil
}

func encode(profile, entity string, p Point) ([]byte, error) {
	r := row{PartitionKey: profile, RowKey: rowKey(entity, p.Minute), Applied: p.Applied, Deleted: p.Deleted, Failed: p.Failed}
	if p.HasLag {
		r.LagLastMs, r.LagMaxMs = ms(p.LagLast), ms(p.LagMax)
	}
	return json.Marshal(r)
}

// maxAttempts bounds the merge loop of Add (each lost round means another
// process wrote the same minute).
const maxAttempts = 16

// Add merges p into the entity's row of p.Minute: another applier process
// may have written the same minute, so the row is read, added to and
// written back under its ETag.
func (s *Store) Add(ctx context.Context, profile, entity string, p Point) error {
	p.Minute = p.Minute.UTC().Truncate(time.Minute)
	for range maxAttempts {
		resp, err := s.t.GetEntity(ctx, profile, rowKey(entity, p.Minute), nil)
		var etag azcore.ETag
		merged := p
		switch {
		case err == nil:
			var r row
			if err := json.Unmarshal(resp.Value, &r); err != nil {
				return fmt.Errorf("metrics: decoding %s/%s: %w", profile, entity, err)
			}
			old, err := r.point()
			if err != nil {
				return err
			}
			merged, etag = old.add(p, true), resp.ETag
		case state.HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound):
		default:
			return fmt.Errorf("metrics: reading %s/%s: %w", profile, entity, err)
		}
		b, err := encode(profile, entity, merged)
		if err != nil {
			return err
		}
		if etag == "" {
			_, err = s.t.AddEntity(ctx, b, nil)
		} else {
			_, err = s.t.UpdateEntity(ctx, b, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
		}
		switch {
		case err == nil:
			return nil
		case state.HasCode(err, aztables.EntityAlreadyExists, aztables.UpdateConditionNotSatisfied, aztables.EntityNotFound, aztables.ResourceNotFound):
			continue
		default:
			return fmt.Errorf("metrics: writing %s/%s: %w", profile, entity, err)
		}
	}
	return fmt.Errorf("metrics: writing %s/%s: %d attempts lost to other writers", profile, entity, maxAttempts)
}

// Series returns an entity's minutes from since on, oldest first.
func (s *Store) Series(ctx context.Context, profile, entity string, since time.Time) ([]Point, error) {
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey ge '%s' and RowKey le '%s'",
		quote(profile), quote(rowKey(entity, since.UTC().Truncate(time.Minute))), quote(entity+"~999999999999"))
	pager := s.t.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: to.Ptr(filter)})
	var out []Point
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("metrics: reading %s/%s: %w", profile, entity, err)
		}
		for _, raw := range page.Entities {
			var r row
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("metrics: decoding %s/%s: %w", profile, entity, err)
			}
			p, err := r.point()
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// Prune deletes an entity's minutes before before; it returns how many.
func (s *Store) Prune(ctx context.Context, profile, entity string, before time.Time) (int, error) {
	filter := fmt.Sprintf("PartitionKey eq '%s' and RowKey ge '%s' and RowKey lt '%s'",
		quote(profile), quote(entity+"~"), quote(rowKey(entity, before.UTC().Truncate(time.Minute))))
	return s.deleteWhere(ctx, filter)
}

// DeleteProfile deletes every row of a profile; it returns how many.
func (s *Store) DeleteProfile(ctx context.Context, profile string) (int, error) {
	return s.deleteWhere(ctx, fmt.Sprintf("PartitionKey eq '%s'", quote(profile)))
}

func (s *Store) deleteWhere(ctx context.Context, filter string) (int, error) {
	pager := s.t.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: to.Ptr(filter), Select: to.Ptr("PartitionKey,RowKey")})
	n := 0
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("metrics: listing rows to delete: %w", err)
		}
		for _, raw := range page.Entities {
			var r row
			if err := json.Unmarshal(raw, &r); err != nil {
				return n, err
			}
			if _, err := s.t.DeleteEntity(ctx, r.PartitionKey, r.RowKey, nil); err != nil && !state.HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
				return n, fmt.Errorf("metrics: deleting %s/%s: %w", r.PartitionKey, r.RowKey, err)
			}
			n++
		}
	}
	return n, nil
}

func quote(s string) string { return strings.ReplaceAll(s, "'", "''") }
