package state

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/dataexport/dataexport/internal/errclass"
)

// Counters are the applier's totals for one entity, and its latest apply
// error. They live in their own row (RowKey <entity>~counters) so appliers
// never contend with the poller's checkpoint row.
type Counters struct {
	Succeeded, Failed, Skipped, Deleted int64
	LastApplied                         time.Time
	// Lag is how long the newest change of a delta batch took from
	// Dataverse (its modifiedon) to the destination, measured at LagAt. The
	// latest measurement wins when counters are added.
	Lag   time.Duration
	LagAt time.Time
	// LastError is the entity's latest apply error (an error names tables,
	// columns and records, never a connection string or a value), of class
	// LastErrorClass (errclass names: transient, record, schema,
	// configuration, unknown), at LastErrorAt; the latest wins when counters
	// are added. Rows written before these fields existed read as no error.
	LastError      string
	LastErrorClass string
	LastErrorAt    time.Time
}

// Waiting reports whether the entity's batches are waiting for the
// destination: its latest error is of a class that waits (unreachable,
// schema behind, configuration) and nothing was applied since.
func (c Counters) Waiting() bool {
	return !c.LastErrorAt.IsZero() && !c.LastApplied.After(c.LastErrorAt) && errclass.Parse(c.LastErrorClass).Waits()
}

// countersSuffix cannot clash with an entity: logical names are [a-z0-9_].
const countersSuffix = "~counters"

// maxCounterAttempts bounds the optimistic merge loop; each lost round means
// another applier's increment landed, so progress is made system-wide.
const maxCounterAttempts = 64

type countersRow struct {
	PartitionKey    string   `json:"PartitionKey"`
	RowKey          string   `json:"RowKey"`
	Succeeded       edmInt64 `json:"Succeeded"`
	SucceededType   string   `json:"Succeeded@odata.type,omitempty"`
	Failed          edmInt64 `json:"Failed"`
	FailedType      string   `json:"Failed@odata.type,omitempty"`
	Skipped         edmInt64 `json:"Skipped"`
	SkippedType     string   `json:"Skipped@odata.type,omitempty"`
	Deleted         edmInt64 `json:"Deleted"`
	DeletedType     string   `json:"Deleted@odata.type,omitempty"`
	LastApplied     *edmTime `json:"LastApplied,omitempty"`
	LastAppliedType string   `json:"LastApplied@odata.type,omitempty"`
	// Added later; older rows lack them.
	LagMillis       *edmInt64 `json:"LagMillis,omitempty"`
	LagMillisType   string    `json:"LagMillis@odata.type,omitempty"`
	LagAt           *edmTime  `json:"LagAt,omitempty"`
	LagAtType       string    `json:"LagAt@odata.type,omitempty"`
	LastError       string    `json:"LastError,omitempty"`
	LastErrorClass  string    `json:"LastErrorClass,omitempty"`
	LastErrorAt     *edmTime  `json:"LastErrorAt,omitempty"`
	LastErrorAtType string    `json:"LastErrorAt@odata.type,omitempty"`
}

func (c Counters) row(profile, entity string) ([]byte, error) {
	r := countersRow{
		PartitionKey: profile, RowKey: entity + countersSuffix,
		Succeeded: edmInt64(c.Succeeded), SucceededType: edmInt64Type,
		Failed: edmInt64(c.Failed), FailedType: edmInt64Type,
		Skipped: edmInt64(c.Skipped), SkippedType: edmInt64Type,
		Deleted: edmInt64(c.Deleted), DeletedType: edmInt64Type,
	}
	r.LastApplied, r.LastAppliedType = timeProp(c.LastApplied)
	if !c.LagAt.IsZero() {
		ms := edmInt64(c.Lag.Milliseconds())
		r.LagMillis, r.LagMillisType = &ms, edmInt64Type
		r.LagAt, r.LagAtType = timeProp(c.LagAt)
	}
	if c.LastError != "" {
		r.LastError, r.LastErrorClass = clip(c.LastError), c.LastErrorClass
		r.LastErrorAt, r.LastErrorAtType = timeProp(c.LastErrorAt)
	}
	return json.Marshal(r)
}

// add returns c plus d; LastApplied and the last error keep the later of
// the two.
func (c Counters) add(d Counters) Counters {
	c.Succeeded += d.Succeeded
	c.Failed += d.Failed
	c.Skipped += d.Skipped
	c.Deleted += d.Deleted
	if d.LastApplied.After(c.LastApplied) {
		c.LastApplied = d.LastApplied
	}
	if !d.LagAt.IsZero() && !d.LagAt.Before(c.LagAt) {
		c.Lag, c.LagAt = d.Lag, d.LagAt
	}
	if d.LastError != "" && !d.LastErrorAt.Before(c.LastErrorAt) {
		c.LastError, c.LastErrorClass, c.LastErrorAt = d.LastError, d.LastErrorClass, d.LastErrorAt
	}
	return c
}

// GetCounters returns an entity's counters; all zero when none were added.
func (s *Store) GetCounters(ctx context.Context, profile, entity string) (Counters, error) {
	c, _, err := s.getCounters(ctx, profile, entity)
	return c, err
}

func (s *Store) getCounters(ctx context.Context, profile, entity string) (Counters, azcore.ETag, error) {
	if err := checkKey("profile", profile); err != nil {
		return Counters{}, "", err
	}
	if err := checkKey("entity", entity); err != nil {
		return Counters{}, "", err
	}
	resp, err := s.entities.GetEntity(ctx, profile, entity+countersSuffix, nil)
	if HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
		return Counters{}, "", nil
	}
	if err != nil {
		return Counters{}, "", fmt.Errorf("state: reading counters %s/%s: %w", profile, entity, err)
	}
	var r countersRow
	if err := json.Unmarshal(resp.Value, &r); err != nil {
		return Counters{}, "", fmt.Errorf("state: decoding counters %s/%s: %w", profile, entity, err)
	}
	c := Counters{
		Succeeded: int64(r.Succeeded), Failed: int64(r.Failed),
		Skipped: int64(r.Skipped), Deleted: int64(r.Deleted),
		LastApplied: timeValue(r.LastApplied),
		LagAt:       timeValue(r.LagAt),
		LastError:   r.LastError, LastErrorClass: r.LastErrorClass, LastErrorAt: timeValue(r.LastErrorAt),
	}
	if r.LagMillis != nil {
		c.Lag = time.Duration(*r.LagMillis) * time.Millisecond
	}
	return c, resp.ETag, nil
}

// AddCounters adds d to an entity's counters. Concurrent callers never lose
// an increment: each round reads the row, adds, and writes with the ETag it
// read, starting over when another writer got there first.
func (s *Store) AddCounters(ctx context.Context, profile, entity string, d Counters) error {
	for attempt := 0; attempt < maxCounterAttempts; attempt++ {
		cur, etag, err := s.getCounters(ctx, profile, entity)
		if err != nil {
			return err
		}
		row, err := cur.add(d).row(profile, entity)
		if err != nil {
			return fmt.Errorf("state: encoding counters %s/%s: %w", profile, entity, err)
		}
		if etag == "" {
			_, err = s.entities.AddEntity(ctx, row, nil)
		} else {
			_, err = s.entities.UpdateEntity(ctx, row, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
		}
		switch {
		case err == nil:
			return nil
		case HasCode(err, aztables.EntityAlreadyExists, aztables.UpdateConditionNotSatisfied, aztables.EntityNotFound, aztables.ResourceNotFound):
			// Lost the race. A short random pause spreads out the retries
			// of appliers that collided, so they do not collide again.
			if err := pause(ctx, attempt); err != nil {
				return err
			}
		default:
			return fmt.Errorf("state: writing counters %s/%s: %w", profile, entity, err)
		}
	}
	return fmt.Errorf("adding counters %s/%s after %d attempts: %w", profile, entity, maxCounterAttempts, ErrConflict)
}

// pause waits a jittered, growing delay (capped at ~100 ms), or until ctx ends.
func pause(ctx context.Context, attempt int) error {
	limit := time.Duration(min(attempt+1, 20)) * 5 * time.Millisecond
	t := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("state: adding counters: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// clip keeps a runaway error text from pushing a row over the property
// limit; the head of an error says what went wrong.
func clip(s string) string {
	if len(s) > maxLastError {
		return strings.ToValidUTF8(s[:maxLastError], "")
	}
	return s
}
