package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/errclass"
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
	Partial       Outcome = "partial"       // written but for records the destination refused; those are sent again or kept as failed records
	Retry         Outcome = "retry"         // failed; sent again (or redelivered) and counted as an attempt
	Waiting       Outcome = "waiting"       // the destination cannot take it now; sent again later, no attempt counted
	Failed        Outcome = "failed"        // failed after the profile's retries; kept as failed records
	Unprocessable Outcome = "unprocessable" // cannot be understood; kept in unprocessablemessages/
)

// Report is what Apply did with one message.
type Report struct {
	Outcome Outcome
	Profile string
	Entity  string
	Result  sink.Result
	Err     error          // the cause, for every outcome but Applied
	Class   errclass.Class // Err's class
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
	// It also carries the waits for a destination that cannot take a
	// batch: without it, such a message is redelivered by the transport
	// and, past the transport's limit, kept in its poison queue.
	Requeue Requeuer
	// MaxWait caps the growing wait of a batch whose destination cannot
	// take it (default 5 minutes).
	MaxWait time.Duration
	// Tables reads the fingerprint of each entity's table (the entity
	// state's Schema), for messages read for a newer one: those wait
	// (errclass.Schema) until the SchemaChange function evolved the table.
	// Nil: messages are applied as the table is.
	Tables EntityReader
	Logger *slog.Logger
	Now    func() time.Time
}

// EntityReader reads an entity's state.
type EntityReader interface {
	GetEntity(ctx context.Context, profile, entity string) (state.EntityState, error)
}

// Applier applies batch messages to the profile's destination.
type Applier struct {
	profiles ProfileStore
	dest     Destinations
	counters CounterStore
	failures FailureStore
	o        ApplierOptions

	mu     gosync.Mutex
	cache  map[string]cachedProfile
	tables map[string]Fingerprint // profile/entity -> table fingerprint last read
}

type cachedProfile struct {
	p       profile.Profile
	version string // p.Revision
	at      time.Time
}

func NewApplier(profiles ProfileStore, dest Destinations, counters CounterStore, failures FailureStore, o *ApplierOptions) *Applier {
	a := &Applier{profiles: profiles, dest: dest, counters: counters, failures: failures, cache: map[string]cachedProfile{}, tables: map[string]Fingerprint{}}
	if o != nil {
		a.o = *o
	}
	if a.o.MaxDequeueCount <= 0 {
		a.o.MaxDequeueCount = 5
	}
	if a.o.ProfileTTL <= 0 {
		a.o.ProfileTTL = 30 * time.Second
	}
	if a.o.MaxWait <= 0 {
		a.o.MaxWait = 5 * time.Minute
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
	if err != nil {
		// Our own state store did not answer: not the records' fault.
		err = errclass.With(errclass.Transient, fmt.Errorf("reading profile %s: %w", m.Profile, err))
	} else if err = a.tableReady(ctx, m); err == nil {
		var s sink.Sink
		if s, err = a.dest.Sink(ctx, prof); err == nil {
			table := tableOptions(prof).TableName(m.Entity)
			rep.Result, err = s.Apply(ctx, table, m.Batch)
		}
	}
	now := a.o.Now().UTC()
	if err == nil {
		rep.Outcome = Applied
		c := state.Counters{
			Succeeded: int64(rep.Result.Upserted + rep.Result.Deleted), Skipped: int64(rep.Result.Skipped),
			Deleted: int64(rep.Result.Deleted), LastApplied: now,
		}
		if lag, ok := changeLag(m, now, rep.Result.Rejected); ok {
			c.Lag, c.LagAt = lag, now
		}
		if len(rep.Result.Rejected) > 0 {
			first := rep.Result.Rejected[0]
			rep.Class = errclass.Record
			if rep.Result.Upserted+rep.Result.Deleted+rep.Result.Skipped > 0 {
				rep.Outcome = Partial // else the outcome is the refused records'
			}
			rep.Err = fmt.Errorf("%d of the batch's records refused by the destination, the first (%s): %w", len(rep.Result.Rejected), first.ID, first.Err)
			c.LastError, c.LastErrorClass, c.LastErrorAt = rep.Err.Error(), errclass.Record.String(), now
		}
		a.addCounters(ctx, log, m, c)
		if len(rep.Result.Rejected) == 0 {
			log.Debug("applied", "upserted", rep.Result.Upserted, "skipped", rep.Result.Skipped, "deleted", rep.Result.Deleted)
			return rep, nil
		}
		log.Warn("the destination refused records; the rest of the batch is applied", "rejected", len(rep.Result.Rejected),
			"upserted", rep.Result.Upserted, "skipped", rep.Result.Skipped, "deleted", rep.Result.Deleted, "err", rep.Err)
		return a.retryRecords(ctx, log, rep, m, ref, d, prof, rep.Result.Rejected)
	}
	rep.Err, rep.Class = err, errclass.Of(err)
	a.addCounters(ctx, log, m, state.Counters{LastError: err.Error(), LastErrorClass: rep.Class.String(), LastErrorAt: now})
	switch {
	case rep.Class == errclass.Record:
		// The batch as a whole is refused (its columns do not fit the
		// table): every record takes the record path.
		log.Warn("the destination refused the batch", "err", err)
		return a.retryRecords(ctx, log, rep, m, ref, d, prof, allRejected(m, err))
	case rep.Class.Waits():
		return a.wait(ctx, log, rep, m, ref, prof)
	}
	return a.retryAll(ctx, log, rep, m, ref, d, prof)
}

// wait sends the message again after a wait that doubles with each wait of
// this batch, from the profile's retry interval up to MaxWait, without
// counting an attempt: the destination is at fault, not the records. The
// first wait of a message is one WARN line; later ones are DEBUG, so an
// outage logs one line per message, not one per retry.
func (a *Applier) wait(ctx context.Context, log *slog.Logger, rep Report, m, ref *Message, prof profile.Profile) (Report, error) {
	_, interval := prof.Retries()
	delay := max(time.Duration(interval)*time.Second, time.Second)
	for i := 0; i < ref.Waits && delay < a.o.MaxWait; i++ {
		delay *= 2
	}
	delay = min(delay, a.o.MaxWait)
	again := *ref
	again.Waits++
	level := slog.LevelDebug
	if ref.Waits == 0 {
		level = slog.LevelWarn
	}
	if a.o.Requeue == nil {
		rep.Outcome = Retry
		log.Log(ctx, level, "the destination cannot take the batch now; the transport will redeliver it", "class", rep.Class.String(), "err", rep.Err)
		return rep, fmt.Errorf("applying message %s: %w", m.ID, rep.Err)
	}
	if err := a.o.Requeue.SendAfter(ctx, again.Encode(), delay); err != nil {
		rep.Outcome = Retry
		log.Warn("sending the batch again failed; the transport will redeliver it", "err", err, "cause", rep.Err)
		return rep, fmt.Errorf("applying message %s: %w", m.ID, errors.Join(rep.Err, err))
	}
	rep.Outcome = Waiting
	log.Log(ctx, level, "the destination cannot take the batch now; it waits and comes back, using none of its retries",
		"class", rep.Class.String(), "waits", again.Waits, "after", delay, "err", rep.Err)
	return rep, nil
}

// retryAll is the rule for errors of no known class: the whole message is
// sent again after the profile's retry interval, counted as an attempt,
// and after the profile's retries its records become failed records.
func (a *Applier) retryAll(ctx context.Context, log *slog.Logger, rep Report, m, ref *Message, d Delivery, prof profile.Profile) (Report, error) {
	retries, interval := prof.Retries() // zero profile when it could not be read: DES defaults
	// The attempt count travels on the message as sent (for a claim, the
	// reference: the claimed body is the poller's original, attempt 0).
	tries := int64(ref.Attempt) + d.DequeueCount
	retry := tries <= int64(retries) && d.DequeueCount < a.o.MaxDequeueCount
	if retry && a.o.Requeue != nil {
		again := *ref
		again.Attempt, again.Waits = int(tries), 0
		delay := time.Duration(interval) * time.Second
		qerr := a.o.Requeue.SendAfter(ctx, again.Encode(), delay)
		if qerr == nil {
			rep.Outcome = Retry
			log.Warn("apply failed; the batch is sent again", "attempt", tries, "of", retries, "after", delay, "err", rep.Err)
			return rep, nil
		}
		log.Warn("sending the batch again failed; the transport will redeliver it", "err", qerr)
	}
	if retry {
		rep.Outcome = Retry
		log.Warn("apply failed; the message will be redelivered", "err", rep.Err)
		return rep, fmt.Errorf("applying message %s (delivery %d): %w", m.ID, d.DequeueCount, rep.Err)
	}
	// Out of retries: keep every record of the message as a failed record,
	// then let the transport forget it.
	return a.fail(ctx, log, rep, m, allRejected(m, rep.Err))
}

// retryRecords takes the records the destination refused through the
// profile's retries: a message holding just them is sent again after the
// retry interval, counted as an attempt, and after the profile's retries
// each becomes a failed record with its own reason. The records applied
// with them stay applied.
func (a *Applier) retryRecords(ctx context.Context, log *slog.Logger, rep Report, m, ref *Message, d Delivery, prof profile.Profile, rejected []sink.Rejection) (Report, error) {
	retries, interval := prof.Retries()
	tries := int64(ref.Attempt) + d.DequeueCount
	if tries > int64(retries) || d.DequeueCount >= a.o.MaxDequeueCount {
		return a.fail(ctx, log, rep, m, rejected)
	}
	if a.o.Requeue == nil {
		// Only the whole message can come back: the records applied are
		// skipped next time (same versions), the refused ones retried.
		if rep.Outcome != Partial {
			rep.Outcome = Retry
		}
		return rep, fmt.Errorf("applying message %s (delivery %d): %w", m.ID, d.DequeueCount, rep.Err)
	}
	again := m.envelope()
	again.Batch = onlyRejected(m, rejected)
	again.Attempt = int(tries)
	body := again.Encode()
	if len(again.Batch.Upserts)+len(again.Batch.Deletes) == len(m.Batch.Upserts)+len(m.Batch.Deletes) || a.tooLarge(body) {
		// Everything failed, or the records alone would not fit a message
		// (a claim-check record): the message as it came, whose good
		// records are skipped next time.
		whole := *ref
		whole.Attempt, whole.Waits = int(tries), 0
		body = whole.Encode()
	}
	delay := time.Duration(interval) * time.Second
	if err := a.o.Requeue.SendAfter(ctx, body, delay); err != nil {
		log.Warn("sending the refused records again failed; the transport will redeliver the message", "err", err)
		return rep, fmt.Errorf("applying message %s: %w", m.ID, errors.Join(rep.Err, err))
	}
	if rep.Outcome != Partial {
		rep.Outcome = Retry
	}
	log.Info("the refused records are sent again", "records", len(rejected), "attempt", tries, "of", retries, "after", delay)
	return rep, nil
}

// fail keeps rejected records of m as failed records (one blob and log
// line each, with its own reason) and counts them.
func (a *Applier) fail(ctx context.Context, log *slog.Logger, rep Report, m *Message, rejected []sink.Rejection) (Report, error) {
	if rep.Outcome != Partial {
		rep.Outcome = Failed
	}
	log.Error("records failed after the profile's retries; keeping them as failed records", "records", len(rejected), "err", rep.Err)
	if ferr := a.keepFailed(ctx, m, rejected); ferr != nil {
		rep.Outcome = Retry
		return rep, fmt.Errorf("keeping failed records of message %s: %w", m.ID, ferr)
	}
	now := a.o.Now().UTC()
	// The status shows the error with the failed counter.
	c := state.Counters{Failed: int64(len(rejected)), LastApplied: now}
	if rep.Err != nil {
		c.LastError, c.LastErrorClass, c.LastErrorAt = rep.Err.Error(), rep.Class.String(), now
	}
	a.addCounters(ctx, log, m, c)
	return rep, nil
}

// tooLarge reports whether body exceeds what the requeuer's transport
// carries, when it says.
func (a *Applier) tooLarge(body []byte) bool {
	if s, ok := a.o.Requeue.(interface{ MaxBodyBytes() int }); ok {
		return s.MaxBodyBytes() > 0 && len(body) > s.MaxBodyBytes()
	}
	return false
}

func (a *Applier) addCounters(ctx context.Context, log *slog.Logger, m *Message, c state.Counters) {
	if err := a.counters.AddCounters(ctx, m.Profile, m.Entity, c); err != nil {
		// The rows are written; a lost counter increment is not worth a replay.
		log.Warn("updating counters failed", "err", err)
	}
}

// allRejected is every record of m, rejected with err.
func allRejected(m *Message, err error) []sink.Rejection {
	out := make([]sink.Rejection, 0, len(m.Batch.Upserts)+len(m.Batch.Deletes))
	for _, r := range m.Batch.Upserts {
		out = append(out, sink.Rejection{ID: r.ID, Version: r.Version, Err: err, Class: errclass.Of(err)})
	}
	for _, d := range m.Batch.Deletes {
		out = append(out, sink.Rejection{ID: d.ID, Version: d.Version, Delete: true, Err: err, Class: errclass.Of(err)})
	}
	return out
}

// onlyRejected is m's batch with only the rejected records: upserts of the
// same id and version, deletes of the same id.
func onlyRejected(m *Message, rejected []sink.Rejection) record.Batch {
	type key struct {
		id string
		v  int64
	}
	ups, dels := map[key]bool{}, map[string]bool{}
	for _, r := range rejected {
		if r.Delete {
			dels[strings.ToLower(r.ID)] = true
		} else {
			ups[key{strings.ToLower(r.ID), r.Version}] = true
		}
	}
	b := record.Batch{Entity: m.Batch.Entity, Columns: m.Batch.Columns}
	for _, r := range m.Batch.Upserts {
		if ups[key{strings.ToLower(r.ID), r.Version}] {
			b.Upserts = append(b.Upserts, r)
		}
	}
	for _, d := range m.Batch.Deletes {
		if dels[strings.ToLower(d.ID)] {
			b.Deletes = append(b.Deletes, d)
		}
	}
	return b
}

// keepFailed writes one failed record per rejected record of m, with that
// record's reason.
func (a *Applier) keepFailed(ctx context.Context, m *Message, rejected []sink.Rejection) error {
	change := failureChangeUpdate
	if m.Kind == KindInitial {
		change = failureChangeInitial
	}
	// Each failed record keeps a message of its own (the batch's envelope
	// and columns, that record only), ready to be sent again by a resync:
	// the whole body once per record would write megabytes per record.
	one := m.envelope()
	type item struct {
		id, change, reason string
		payload            []byte
	}
	reasons := make(map[string]string, len(rejected))
	for _, r := range rejected {
		reasons[kindID(r.Delete, r.ID)] = r.Err.Error()
	}
	var items []item
	b := onlyRejected(m, rejected)
	for _, r := range b.Upserts {
		one.Batch = record.Batch{Entity: m.Entity, Columns: m.Batch.Columns, Upserts: []record.Record{r}}
		items = append(items, item{r.ID, change, reasons[kindID(false, r.ID)], one.Encode()})
	}
	for _, d := range b.Deletes {
		one.Batch = record.Batch{Entity: m.Entity, Deletes: []record.Delete{d}}
		items = append(items, item{d.ID, failureChangeDelete, reasons[kindID(true, d.ID)], one.Encode()})
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
			errs[i] = a.failures.WriteFailure(ctx, m.Profile, m.Entity, it.id, it.change, it.reason, it.payload)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Change types of the failure log, as DES wrote them (failures.Change*).
const (
	failureChangeUpdate  = "Update"
	failureChangeDelete  = "Delete"
	failureChangeInitial = "Trigger Initial Export"
)

func kindID(del bool, id string) string {
	if del {
		return "d:" + strings.ToLower(id)
	}
	return "u:" + strings.ToLower(id)
}

// existing is name when a profile of that name exists, else "": a name
// read from a message must not create storage of its own.
func (a *Applier) existing(ctx context.Context, name string) string {
	if name == "" {
		return ""
	}
	if _, err := a.profile(ctx, name, false); err != nil {
		return ""
	}
	return name
}

// unprocessable keeps body, byte for byte, under unprocessablemessages/ of
// prof's container ("": the shared one); a unit that decodes is kept in
// the JSON form, which operators can read (and send again).
func (a *Applier) unprocessable(ctx context.Context, prof string, body []byte, cause error) (Report, error) {
	if isUnit(body) {
		if m, err := decodeUnit(string(body)); err == nil {
			body = m.Encode()
		}
	}
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
	c = cachedProfile{p: p, version: p.Revision, at: a.o.Now()}
	a.mu.Lock()
	a.cache[name] = c
	a.mu.Unlock()
	return c, nil
}

// SchemaBehindError says an entity's table is behind the schema a message
// was read for: rows may carry columns it lacks. It waits (errclass.Schema,
// no retry used) until the SchemaChange function has evolved the table.
type SchemaBehindError struct {
	Profile, Entity string
	Table, Message  string // fingerprints: the table's ("" none yet) and the message's
}

func (e *SchemaBehindError) Error() string {
	table := e.Table
	if table == "" {
		table = "none yet"
	}
	return fmt.Sprintf("the table of %s/%s is at schema %s, behind the %s its batch was read for; it waits for the SchemaChange function", e.Profile, e.Entity, table, e.Message)
}

func (e *SchemaBehindError) ErrorClass() errclass.Class { return errclass.Schema }

// tableReady returns a *SchemaBehindError when m was read for a newer
// schema than its entity's table follows. The table's fingerprint is read
// from the entity state only when the one seen last is older than m's, so
// the usual message costs no read.
func (a *Applier) tableReady(ctx context.Context, m *Message) error {
	if m.Schema == "" || a.o.Tables == nil {
		return nil
	}
	want, err := ParseFingerprint(m.Schema)
	if err != nil {
		return nil // DecodeMessage refused it already
	}
	key := m.Profile + "/" + m.Entity
	a.mu.Lock()
	have := a.tables[key]
	a.mu.Unlock()
	if have.Generation >= want.Generation {
		return nil
	}
	st, err := a.o.Tables.GetEntity(ctx, m.Profile, m.Entity)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		// Our own state store did not answer: not the records' fault.
		return errclass.With(errclass.Transient, fmt.Errorf("reading the table's schema of %s/%s: %w", m.Profile, m.Entity, err))
	}
	have, _ = ParseFingerprint(st.Schema)
	a.mu.Lock()
	a.tables[key] = have
	a.mu.Unlock()
	if have.Generation >= want.Generation {
		return nil
	}
	return &SchemaBehindError{Profile: m.Profile, Entity: m.Entity, Table: st.Schema, Message: m.Schema}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tableOptions is how the profile names its tables; poller and applier must
// agree. The label views' language is the profile's, 0 for the org's base
// language (see Poller.labelOptions).
func tableOptions(p profile.Profile) schema.Options {
	return schema.Options{Schema: p.SchemaOrDefault(), Prefix: p.Prefix, LabelView: p.LabelViewName(), LabelLanguage: p.LabelLanguage()}
}

// TableName is the destination table of an entity of p.
func TableName(p profile.Profile, entity string) schema.TableName {
	return tableOptions(p).TableName(entity)
}
