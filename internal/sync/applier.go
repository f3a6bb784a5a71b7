package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// CounterStore keeps the applier's per-entity counters.
type CounterStore interface {
	AddCounters(ctx context.Context, profile, entity string, d state.Counters) error
}

// FailureStore keeps what could not be applied, in the DES blob layout.
type FailureStore interface {
	WriteFailure(ctx context.Context, profile, entity, recordID, changeType, reason string, payload []byte) error
	WriteUnprocessable(ctx context.Context, profile string, body []byte, reason string) error
}

// Requeuer sends a message body that becomes visible after delay (Storage
// queue visibility, Service Bus scheduled message).
type Requeuer interface {
	SendAfter(ctx context.Context, body []byte, delay time.Duration) error
}

// Delivery describes how the transport handed a message over.
type Delivery struct {
	ID           string
	DequeueCount int64 // 1 on the first delivery
}

// Outcome of one message.
type Outcome string

const (
	Applied       Outcome = "applied"       // written (or found already written)
	Retry         Outcome = "retry"         // failed; the transport redelivers it
	Failed        Outcome = "failed"        // failed after the profile's retries; kept as a failed record
	Unprocessable Outcome = "unprocessable" // cannot be understood; kept in unprocessablemessages/
)

// Report is what Apply did with one message.
type Report struct {
	Outcome Outcome
	Profile string
	Entity  string
	Result  sink.Result
	Err     error // the cause, for every outcome but Applied
}

// ApplierOptions tune the applier. Zero values are the defaults.
type ApplierOptions struct {
	// MaxDequeueCount is the transport's own redelivery limit (host.json
	// queues.maxDequeueCount, default 5; Service Bus maxDeliveryCount, 10).
	// A message is failed by the applier before the transport poisons it.
	MaxDequeueCount int64
	// ProfileTTL is how long a profile read from the store is reused (default 30 s).
	ProfileTTL time.Duration
	// Claims reads the units of claim-check messages (see PollerOptions)
	// and deletes them once applied.
	Claims ClaimStore
	// Pages is the process's budget of pages in memory, shared with the
	// poller: each unit read from Blob storage takes a slot until it is
	// applied. Nil: a budget of DefaultPageBudget for this applier alone.
	Pages *PageBudget
	// Requeue, when set, carries the profile's retries: a failed message is
	// sent again after the profile's retry interval with its attempt count,
	// and the delivery in hand ends (no sleeping in a function). Nil: the
	// transport redelivers it (host.json visibilityTimeout, maxDequeueCount).
	Requeue Requeuer
	Logger  *slog.Logger
	Now     func() time.Time
}

// Applier applies batch messages to the profile's destination.
type Applier struct {
	profiles ProfileStore
	dest     Destinations
	counters CounterStore
	failures FailureStore
	o        ApplierOptions

	mu    gosync.Mutex
	cache map[string]cachedProfile
}

type cachedProfile struct {
	p       profile.Profile
	version string // p.Version(), computed once per read, not per message
	at      time.Time
}

func NewApplier(profiles ProfileStore, dest Destinations, counters CounterStore, failures FailureStore, o *ApplierOptions) *Applier {
	a := &Applier{profiles: profiles, dest: dest, counters: counters, failures: failures, cache: map[string]cachedProfile{}}
	if o != nil {
		a.o = *o
	}
	if a.o.MaxDequeueCount <= 0 {
		a.o.MaxDequeueCount = 5
	}
	if a.o.ProfileTTL <= 0 {
		a.o.ProfileTTL = 30 * time.Second
	}
	if a.o.Logger == nil {
		a.o.Logger = slog.Default()
	}
	if a.o.Now == nil {
		a.o.Now = time.Now
	}
	if a.o.Pages == nil {
		a.o.Pages = NewPageBudget(DefaultPageBudget)
	}
	if a.o.Requeue != nil {
		a.o.Requeue = markingRequeuer{a.o.Requeue}
	}
	return a
}

// apply applies the batch m of one delivered message. ref is what to send
// again on failure (for a unit, its reference, not the claimed body); body
// is the message as it is kept when it cannot be processed.
func (a *Applier) apply(ctx context.Context, m, ref *Message, body []byte, d Delivery) (Report, error) {
	rep := Report{Profile: m.Profile, Entity: m.Entity}
	log := a.o.Logger.With("profile", m.Profile, "entity", m.Entity, "message", m.ID, "dequeueCount", d.DequeueCount)
	cached, err := a.profile(ctx, m.Profile, false)
	if err == nil && ((m.ProfileVersion != "" && m.ProfileVersion != cached.version) || !contains(cached.p.Entities, m.Entity)) {
		// The poller read another version of the profile (an entity added,
		// the destination changed): read it again rather than act on a
		// stale copy.
		cached, err = a.profile(ctx, m.Profile, true)
	}
	prof := cached.p
	if errors.Is(err, state.ErrNotFound) {
		// Kept with the profile-less messages: a name read from a message
		// must not create storage of its own.
		return a.unprocessable(ctx, "", body, fmt.Errorf("profile %q does not exist", m.Profile))
	}
	if err == nil && !contains(prof.Entities, m.Entity) {
		return a.unprocessable(ctx, m.Profile, body, fmt.Errorf("entity %q is not part of profile %q", m.Entity, m.Profile))
	}
	if err == nil {
		var s sink.Sink
		if s, err = a.dest.Sink(ctx, prof); err == nil {
			table := tableOptions(prof).TableName(m.Entity)
			rep.Result, err = s.Apply(ctx, table, m.Batch)
		}
	}
	if err == nil {
		rep.Outcome = Applied
		if cerr := a.counters.AddCounters(ctx, m.Profile, m.Entity, state.Counters{
			Succeeded: int64(rep.Result.Upserted + rep.Result.Deleted), Skipped: int64(rep.Result.Skipped),
			Deleted: int64(rep.Result.Deleted), LastApplied: a.o.Now().UTC(),
		}); cerr != nil {
			// The rows are written; a lost counter increment is not worth a replay.
			log.Warn("updating counters failed", "err", cerr)
		}
		log.Debug("applied", "upserted", rep.Result.Upserted, "skipped", rep.Result.Skipped, "deleted", rep.Result.Deleted)
		return rep, nil
	}
	rep.Err = err
	retries, interval := prof.Retries() // zero profile when it could not be read: DES defaults
	// The attempt count travels on the message as sent (for a claim, the
	// reference: the claimed body is the poller's original, attempt 0).
	tries := int64(ref.Attempt) + d.DequeueCount
	retry := tries <= int64(retries) && d.DequeueCount < a.o.MaxDequeueCount
	if retry && a.o.Requeue != nil {
		again := *ref
		again.Attempt = int(tries)
		delay := time.Duration(interval) * time.Second
		qerr := a.o.Requeue.SendAfter(ctx, again.Encode(), delay)
		if qerr == nil {
			rep.Outcome = Retry
			log.Warn("apply failed; the batch is sent again", "attempt", tries, "of", retries, "after", delay, "err", err)
			return rep, nil
		}
		log.Warn("sending the batch again failed; the transport will redeliver it", "err", qerr)
	}
	if retry {
		rep.Outcome = Retry
		log.Warn("apply failed; the message will be redelivered", "err", err)
		return rep, fmt.Errorf("applying message %s (delivery %d): %w", m.ID, d.DequeueCount, err)
	}
	// Out of retries: keep every record of the message as a failed record,
	// then let the transport forget it.
	rep.Outcome = Failed
	log.Error("apply failed after retries; keeping the records as failed records", "err", err)
	if ferr := a.keepFailed(ctx, m, err); ferr != nil {
		rep.Outcome = Retry
		return rep, fmt.Errorf("keeping failed records of message %s: %w", m.ID, ferr)
	}
	if cerr := a.counters.AddCounters(ctx, m.Profile, m.Entity, state.Counters{
		Failed: int64(len(m.Batch.Upserts) + len(m.Batch.Deletes)), LastApplied: a.o.Now().UTC(),
	}); cerr != nil {
		log.Warn("updating counters failed", "err", cerr)
	}
	return rep, nil
}

func (a *Applier) keepFailed(ctx context.Context, m *Message, cause error) error {
	change := "Update"
	if m.Kind == KindInitial {
		change = "Trigger Initial Export"
	}
	// Each failed record keeps a message of its own (the batch's envelope
	// and columns, that record only), ready to be sent again by a resync:
	// the whole body once per record would write megabytes per record.
	one := m.envelope()
	type item struct {
		id, change string
		payload    []byte
	}
	items := make([]item, 0, len(m.Batch.Upserts)+len(m.Batch.Deletes))
	for _, r := range m.Batch.Upserts {
		one.Batch = record.Batch{Entity: m.Entity, Columns: m.Batch.Columns, Upserts: []record.Record{r}}
		items = append(items, item{r.ID, change, one.Encode()})
	}
	for _, d := range m.Batch.Deletes {
		one.Batch = record.Batch{Entity: m.Entity, Deletes: []record.Delete{d}}
		items = append(items, item{d.ID, "Delete", one.Encode()})
	}
	// A few blob writes at a time: thousands in a row could outlast the
	// function's timeout.
	errs := make([]error, len(items))
	sem := make(chan struct{}, 8)
	var wg gosync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = a.failures.WriteFailure(ctx, m.Profile, m.Entity, it.id, it.change, cause.Error(), it.payload)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (a *Applier) unprocessable(ctx context.Context, prof string, body []byte, cause error) (Report, error) {
	rep := Report{Outcome: Unprocessable, Profile: prof, Err: cause}
	a.o.Logger.Error("message rejected as unprocessable", "profile", prof, "err", cause)
	if err := a.failures.WriteUnprocessable(ctx, prof, body, cause.Error()); err != nil {
		rep.Outcome = Retry
		return rep, fmt.Errorf("keeping unprocessable message: %w", err)
	}
	return rep, nil
}

func (a *Applier) profile(ctx context.Context, name string, fresh bool) (cachedProfile, error) {
	a.mu.Lock()
	c, ok := a.cache[name]
	a.mu.Unlock()
	if ok && !fresh && a.o.Now().Sub(c.at) < a.o.ProfileTTL {
		return c, nil
	}
	p, err := a.profiles.GetProfile(ctx, name)
	if err != nil {
		return cachedProfile{}, err
	}
	c = cachedProfile{p: p, version: p.Version(), at: a.o.Now()}
	a.mu.Lock()
	a.cache[name] = c
	a.mu.Unlock()
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tableOptions is how the profile names its tables; poller and applier must agree.
func tableOptions(p profile.Profile) schema.Options {
	return schema.Options{Schema: p.SchemaOrDefault(), Prefix: p.Prefix}
}

// TableName is the destination table of an entity of p.
func TableName(p profile.Profile, entity string) schema.TableName {
	return tableOptions(p).TableName(entity)
}
