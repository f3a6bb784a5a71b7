package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// Fakes for the applier's collaborators: each records what it was asked.

type fakeProfiles map[string]profile.Profile

func (f fakeProfiles) GetProfile(_ context.Context, name string) (profile.Profile, error) {
	p, ok := f[name]
	if !ok {
		return p, state.ErrNotFound
	}
	return p, nil
}
func (f fakeProfiles) ListProfiles(context.Context) ([]profile.Profile, error) { return nil, nil }

type fakeSink struct {
	err     error
	batches []record.Batch
}

func (s *fakeSink) EnsureTable(context.Context, schema.Table) error { return nil }
func (s *fakeSink) Close() error                                    { return nil }
func (s *fakeSink) Apply(_ context.Context, _ schema.TableName, b record.Batch) (sink.Result, error) {
	if s.err != nil {
		return sink.Result{}, s.err
	}
	s.batches = append(s.batches, b)
	return sink.Result{Upserted: len(b.Upserts), Deleted: len(b.Deletes)}, nil
}

type fakeDest struct{ s *fakeSink }

func (d fakeDest) Sink(context.Context, profile.Profile) (sink.Sink, error) { return d.s, nil }

type fakeCounters struct{ got []state.Counters }

func (c *fakeCounters) AddCounters(_ context.Context, _, _ string, d state.Counters) error {
	c.got = append(c.got, d)
	return nil
}

type failure struct {
	entity, id, change, reason string
	payload                    []byte
}

type fakeFailures struct {
	mu            gosync.Mutex
	failed        []failure
	unprocessable []string
}

func (f *fakeFailures) WriteFailure(_ context.Context, _, entity, id, change, reason string, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = append(f.failed, failure{entity, id, change, reason, payload})
	return nil
}
func (f *fakeFailures) WriteUnprocessable(_ context.Context, _ string, _ []byte, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unprocessable = append(f.unprocessable, reason)
	return nil
}

// fakeClaims keeps units in memory; the name "unavailable" fails to read.
type fakeClaims map[string][]byte

func (c fakeClaims) PutClaim(_ context.Context, name string, body []byte) error {
	c[name] = body
	return nil
}
func (c fakeClaims) GetClaim(_ context.Context, name string) ([]byte, error) {
	if name == "unavailable" {
		return nil, errors.New("blob service unavailable")
	}
	b, ok := c[name]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", name, fs.ErrNotExist)
	}
	return b, nil
}
func (c fakeClaims) DeleteClaim(_ context.Context, name string) error {
	delete(c, name)
	return nil
}

func TestApplierRetriesThenKeepsFailedRecords(t *testing.T) {
	retries := 2
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries}}
	m := sampleMessage()
	m.Profile = "p"
	m.Batch.Deletes = []record.Delete{{ID: "2e451703-c686-e711-80e5-00155db19e6e", Version: 9}}
	body := m.Encode()
	s := &fakeSink{err: errors.New("database is read-only")}
	counters, fails := &fakeCounters{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s}, counters, fails, &ApplierOptions{Logger: slog.New(slog.DiscardHandler)})

	// Within the profile's retries: redeliver, keep nothing yet.
	for d := int64(1); d <= 2; d++ {
		rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: d})
		if err == nil || rep.Outcome != Retry || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("delivery %d: %v, %v; want a Retry naming the cause", d, rep.Outcome, err)
		}
	}
	if len(fails.failed) != 0 {
		t.Fatalf("failed records written before the retries ran out: %v", fails.failed)
	}
	// Out of retries: every record becomes a failed record, the transport may forget it.
	rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 3})
	if err != nil || rep.Outcome != Failed {
		t.Fatalf("last delivery: %v, %v; want Failed and no error", rep.Outcome, err)
	}
	want := len(m.Batch.Upserts) + 1
	if len(fails.failed) != want {
		t.Fatalf("%d failed records, want %d", len(fails.failed), want)
	}
	// Each failed record keeps a message holding that record only.
	byID := map[string]failure{}
	for _, f := range fails.failed {
		byID[f.change+" "+f.id] = f
		back, err := DecodeMessage(f.payload)
		if err != nil || len(back.Batch.Upserts)+len(back.Batch.Deletes) != 1 || back.Entity != m.Entity {
			t.Fatalf("payload of %s %s: %+v, %v; want a message of that record only", f.change, f.id, back, err)
		}
		if !strings.Contains(f.reason, "read-only") {
			t.Errorf("failure %s %s: reason %q does not name the cause", f.change, f.id, f.reason)
		}
	}
	if _, ok := byID["Delete "+m.Batch.Deletes[0].ID]; !ok {
		t.Errorf("no failed record for the delete: %v", byID)
	}
	if n := len(counters.got); n != 1 || counters.got[0].Failed != int64(want) {
		t.Errorf("counters = %+v, want one increment of %d failed", counters.got, want)
	}

	// The transport's own limit ends retries earlier than the profile's.
	fails.failed = nil
	a = NewApplier(profs, fakeDest{s}, counters, fails, &ApplierOptions{MaxDequeueCount: 2, Logger: slog.New(slog.DiscardHandler)})
	if rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 2}); err != nil || rep.Outcome != Failed {
		t.Fatalf("at the transport's limit: %v, %v; want Failed", rep.Outcome, err)
	}
}

func TestApplierClaimCheck(t *testing.T) {
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account", "contact"}}}
	m := sampleMessage()
	m.Profile = "p"
	claims := fakeClaims{"p/account/1.0-1.json": m.Encode()}
	other := m
	other.Entity, other.Batch.Entity = "contact", "contact"
	claims["p/contact/1.0-1.json"] = other.Encode()
	ref := func(entity, claim string) []byte {
		r := Message{ID: "p/account/1.0", Profile: "p", Entity: entity, Kind: KindDelta, Page: 1, Claim: claim}
		return r.Encode()
	}
	tests := []struct {
		name    string
		body    []byte
		claims  ClaimStore
		d       int64
		want    Outcome
		wantErr string // in the error (Retry) or the unprocessable reason
	}{
		{"claimed body applied", ref("account", "p/account/1.0-1.json"), claims, 1, Applied, ""},
		{"unit gone: applied by an earlier delivery", ref("account", "p/account/missing.json"), claims, 1, AlreadyApplied, ""},
		{"blob unreadable: redelivered", ref("account", "unavailable"), claims, 1, Retry, "unavailable"},
		{"blob unreadable at the last delivery: kept", ref("account", "unavailable"), claims, 5, Unprocessable, "unavailable"},
		{"claimed body of another entity", ref("account", "p/contact/1.0-1.json"), claims, 1, Unprocessable, "p/contact"},
		{"no claim store", ref("account", "p/account/1.0-1.json"), nil, 1, Unprocessable, "no claim store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, fails := &fakeSink{}, &fakeFailures{}
			var store ClaimStore
			if tt.claims != nil {
				store = maps.Clone(tt.claims.(fakeClaims))
			}
			a := NewApplier(profs, fakeDest{s}, &fakeCounters{}, fails, &ApplierOptions{Claims: store, Logger: slog.New(slog.DiscardHandler)})
			rep, err := a.Apply(t.Context(), tt.body, Delivery{DequeueCount: tt.d})
			if rep.Outcome != tt.want {
				t.Fatalf("outcome %s (%v), want %s", rep.Outcome, err, tt.want)
			}
			switch tt.want {
			case Applied:
				if err != nil || len(s.batches) != 1 || len(s.batches[0].Upserts) != len(m.Batch.Upserts) {
					t.Fatalf("applied %d batches, %v; want the claimed batch", len(s.batches), err)
				}
			case AlreadyApplied:
				if err != nil || len(s.batches) != 0 || len(fails.unprocessable) != 0 {
					t.Fatalf("%v, %d batches, unprocessable %q; want nothing done", err, len(s.batches), fails.unprocessable)
				}
			case Retry:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to name %q", err, tt.wantErr)
				}
			case Unprocessable:
				if err != nil || len(fails.unprocessable) != 1 || !strings.Contains(fails.unprocessable[0], tt.wantErr) {
					t.Fatalf("err %v, unprocessable %q; want one naming %q", err, fails.unprocessable, tt.wantErr)
				}
				if len(s.batches) != 0 {
					t.Fatal("an unprocessable claim wrote to the sink")
				}
			}
		})
	}
}

// A page larger than one message travels as one unit: the poller stores it
// under its content's name and sends a small reference, the applier reads
// it back, applies it whole and removes it; a second delivery finds it gone
// and does nothing. Without a claim store the page is split and a record
// too large for any message stops the entity.
func TestUnitRoundTrip(t *testing.T) {
	m := sampleMessage()
	m.Profile = "p"
	big := m.Batch.Upserts[0]
	big.Values = append([]record.Value(nil), big.Values...)
	big.Values[1] = record.StringValue(strings.Repeat("x", 100_000))
	upserts := []record.Record{m.Batch.Upserts[1], big}
	claims := fakeClaims{}
	out := &recordingSender{max: 8 << 10}
	p := &Poller{out: out, o: PollerOptions{Claims: claims, Logger: slog.New(slog.DiscardHandler)}}
	base := Message{ID: "p/account/r1/4", Profile: "p", Entity: "account", Kind: KindDelta, Page: 4}
	base.Batch.Columns = m.Batch.Columns
	for range 2 { // the same page read twice: one name, identical references
		if n, err := p.sendPage(t.Context(), base, upserts, nil); err != nil || n != 1 {
			t.Fatalf("sendPage = %d, %v; want one message", n, err)
		}
	}
	if len(claims) != 1 || len(out.sent) != 2 || !bytes.Equal(out.sent[0], out.sent[1]) || len(out.sent[0]) > 1024 {
		t.Fatalf("%d units, %d messages (%d bytes); want one unit named twice by one small reference", len(claims), len(out.sent), len(out.sent[0]))
	}
	ref, err := DecodeMessage(out.sent[0])
	if err != nil || !strings.HasPrefix(ref.Claim, "p/account/r1/4-") || ref.ID != "p/account/r1/4.0" {
		t.Fatalf("reference %+v, %v", ref, err)
	}
	// The page changed before it was read again: another unit.
	changed := slices.Clone(upserts)
	changed[0].Version++
	if _, err := p.sendPage(t.Context(), base, changed, nil); err != nil || len(claims) != 2 {
		t.Fatalf("a changed page: %v, %d units; want a second unit", err, len(claims))
	}

	s := &fakeSink{}
	a := NewApplier(fakeProfiles{"p": {Name: "p", Entities: []string{"account"}}}, fakeDest{s}, &fakeCounters{}, &fakeFailures{},
		&ApplierOptions{Claims: claims, Logger: slog.New(slog.DiscardHandler)})
	if rep, err := a.Apply(t.Context(), out.sent[0], Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Applied {
		t.Fatalf("Apply = %v, %v", rep.Outcome, err)
	}
	if len(s.batches) != 1 || len(s.batches[0].Upserts) != 2 || s.batches[0].Upserts[1].Values[1] != big.Values[1] {
		t.Fatalf("applied %d batches; want the whole page with its long value", len(s.batches))
	}
	if _, ok := claims[ref.Claim]; ok || len(claims) != 1 {
		t.Fatalf("the applied unit is still stored (%d units)", len(claims))
	}
	if rep, err := a.Apply(t.Context(), out.sent[1], Delivery{DequeueCount: 1}); err != nil || rep.Outcome != AlreadyApplied || len(s.batches) != 1 {
		t.Fatalf("second delivery = %v, %v; want AlreadyApplied and nothing written", rep.Outcome, err)
	}

	// A small page travels inline, whole.
	out.sent = nil
	if n, err := p.sendPage(t.Context(), base, upserts[:1], nil); err != nil || n != 1 || len(claims) != 1 {
		t.Fatalf("small page: %d messages, %v, %d units", n, err, len(claims))
	}
	if back, err := DecodeMessage(out.sent[0]); err != nil || back.Claim != "" || len(back.Batch.Upserts) != 1 {
		t.Fatalf("small page message %+v, %v; want the record inline", back, err)
	}

	// A reference that could not be sent leaves its unit: another poll of
	// the same page may have sent one naming it.
	before := len(claims)
	p.out = failingSender{max: 8 << 10}
	changed[0].Version++
	if _, err := p.sendPage(t.Context(), base, changed, nil); err == nil || len(claims) != before+1 {
		t.Fatalf("send failing: %v, %d units; want an error and the unit kept", err, len(claims))
	}

	p.o.Claims = nil
	var tl *TooLargeError
	if _, err := p.sendPage(t.Context(), base, upserts, nil); !errors.As(err, &tl) || tl.ID != big.ID {
		t.Fatalf("without a claim store: %v, want a *TooLargeError naming %s", err, big.ID)
	}
}

type failingSender struct{ max int }

func (f failingSender) Send(context.Context, []byte) error { return errors.New("queue unavailable") }
func (f failingSender) MaxBodyBytes() int                  { return f.max }

// recordingSender keeps what it is sent.
type recordingSender struct {
	mu   gosync.Mutex
	max  int
	sent [][]byte
}

func (r *recordingSender) Send(_ context.Context, body []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, body)
	return nil
}
func (r *recordingSender) MaxBodyBytes() int { return r.max }

type sizedSender int

func (s sizedSender) Send(context.Context, []byte) error { return nil }
func (s sizedSender) MaxBodyBytes() int                  { return int(s) }

type sentAfter struct {
	body  []byte
	delay time.Duration
}

type fakeRequeue struct {
	sent []sentAfter
	err  error
}

func (q *fakeRequeue) SendAfter(_ context.Context, body []byte, delay time.Duration) error {
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, sentAfter{body, delay})
	return nil
}

// With a Requeuer, a failed batch is sent again after the profile's retry
// interval carrying its attempt count, and the delivery in hand ends; when
// the attempts reach the profile's retries the records become failed records.
func TestApplierRequeuesWithTheProfileInterval(t *testing.T) {
	retries, interval := 2, 40
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries, RetryIntervalSeconds: &interval}}
	m := sampleMessage()
	m.Profile = "p"
	s := &fakeSink{err: errors.New("deadlock victim")}
	q, fails := &fakeRequeue{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s}, &fakeCounters{}, fails, &ApplierOptions{Requeue: q, Logger: slog.New(slog.DiscardHandler)})

	body := m.Encode()
	for attempt := 1; attempt <= retries; attempt++ {
		rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 1})
		if err != nil || rep.Outcome != Retry {
			t.Fatalf("attempt %d: %v, %v; want Retry with no error (the copy is on the queue)", attempt, rep.Outcome, err)
		}
		last := q.sent[len(q.sent)-1]
		if last.delay != 40*time.Second {
			t.Fatalf("attempt %d: sent again after %v, want the profile's 40 s", attempt, last.delay)
		}
		back, err := DecodeMessage(last.body)
		if err != nil || back.Attempt != attempt || len(back.Batch.Upserts) != len(m.Batch.Upserts) {
			t.Fatalf("attempt %d: copy %+v, %v", attempt, back, err)
		}
		body = last.body
	}
	if rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Failed {
		t.Fatalf("after %d attempts: %v, %v; want Failed", retries, rep.Outcome, err)
	}
	if n := len(m.Batch.Upserts) + len(m.Batch.Deletes); len(q.sent) != retries || len(fails.failed) != n {
		t.Fatalf("%d copies sent, %d failed records; want %d and %d", len(q.sent), len(fails.failed), retries, n)
	}

	// The queue refusing the copy: the transport redelivers the original.
	q.err = errors.New("queue unavailable")
	if rep, err := a.Apply(t.Context(), m.Encode(), Delivery{DequeueCount: 1}); err == nil || rep.Outcome != Retry {
		t.Fatalf("with the requeue failing: %v, %v; want an error so the transport redelivers", rep.Outcome, err)
	}
}

// A claim-check batch that keeps failing ends as failed records like any
// other: the attempt count is the reference's, and every copy differs from
// the one before (Service Bus duplicate detection would drop an identical
// one).
func TestApplierRequeuesClaimsUntilFailed(t *testing.T) {
	retries, interval := 2, 5
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries, RetryIntervalSeconds: &interval}}
	m := sampleMessage()
	m.Profile = "p"
	claims := fakeClaims{"p/account/1.0-1.json": m.Encode()}
	ref := Message{ID: "p/account/1.0", Profile: "p", Entity: "account", Kind: KindDelta, Page: 1, Claim: "p/account/1.0-1.json"}
	body := ref.Encode()
	s := &fakeSink{err: errors.New("value too long for column")}
	q, fails := &fakeRequeue{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s}, &fakeCounters{}, fails, &ApplierOptions{Claims: claims, Requeue: q, Logger: slog.New(slog.DiscardHandler)})
	var outcomes []Outcome
	for range retries + 2 {
		rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 1})
		if err != nil {
			t.Fatalf("apply %d: %v", len(outcomes), err)
		}
		outcomes = append(outcomes, rep.Outcome)
		if rep.Outcome != Retry {
			break
		}
		if _, ok := claims[ref.Claim]; !ok {
			t.Fatal("the unit was removed although its reference was sent again")
		}
		next := q.sent[len(q.sent)-1].body
		if bytes.Equal(next, body) {
			t.Fatalf("copy %d is identical to the message it replaces", len(q.sent))
		}
		if back, err := DecodeMessage(next); err != nil || back.Claim != ref.Claim || back.Attempt != len(q.sent) {
			t.Fatalf("copy %d = %+v, %v; want the claim reference at attempt %d", len(q.sent), back, err, len(q.sent))
		}
		body = next
	}
	if want := []Outcome{Retry, Retry, Failed}; !slices.Equal(outcomes, want) {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	if n := len(m.Batch.Upserts) + len(m.Batch.Deletes); len(fails.failed) != n {
		t.Fatalf("%d failed records, want %d", len(fails.failed), n)
	}
	if _, ok := claims[ref.Claim]; ok {
		t.Fatal("the unit is still stored after its records were kept as failed records")
	}
}

// countingProfiles counts reads of the profile store.
type countingProfiles struct {
	fakeProfiles
	reads int
}

func (c *countingProfiles) GetProfile(ctx context.Context, name string) (profile.Profile, error) {
	c.reads++
	return c.fakeProfiles.GetProfile(ctx, name)
}

// The applier caches profiles, but a message from a poller that read
// another version of the profile (an entity just added, a destination just
// changed) makes it read the profile again instead of acting on the stale
// copy: a page of a newly added entity is applied, not kept as
// unprocessable after the poller has checkpointed past it.
func TestApplierRereadsAChangedProfile(t *testing.T) {
	profs := &countingProfiles{fakeProfiles: fakeProfiles{"p": {Name: "p", Entities: []string{"contact"}}}}
	s, fails := &fakeSink{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s}, &fakeCounters{}, fails, &ApplierOptions{Logger: slog.New(slog.DiscardHandler)})
	contact := sampleMessage()
	contact.Profile, contact.Entity, contact.Batch.Entity = "p", "contact", "contact"
	contact.ProfileVersion = profs.fakeProfiles["p"].Version()
	for range 3 {
		if rep, err := a.Apply(t.Context(), contact.Encode(), Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Applied {
			t.Fatalf("contact: %v, %v", rep.Outcome, err)
		}
	}
	if profs.reads != 1 {
		t.Fatalf("%d profile reads for three messages of one version, want 1 (cached)", profs.reads)
	}

	added := profs.fakeProfiles["p"]
	added.Entities = []string{"contact", "account"}
	profs.fakeProfiles["p"] = added
	for _, tc := range []struct {
		name    string
		version string
	}{{"message naming the new version", added.Version()}, {"message of an older poller without a version", ""}} {
		account := sampleMessage()
		account.Profile, account.ProfileVersion = "p", tc.version
		rep, err := a.Apply(t.Context(), account.Encode(), Delivery{DequeueCount: 1})
		if err != nil || rep.Outcome != Applied {
			t.Fatalf("%s: %v, %v (%v); want the page of the added entity applied", tc.name, rep.Outcome, err, rep.Err)
		}
	}
	if len(fails.unprocessable) != 0 {
		t.Fatalf("unprocessable: %q", fails.unprocessable)
	}
}

// The page budget lets n holders in at once; the next waits for a release
// or gives up with its context.
func TestPageBudget(t *testing.T) {
	b := NewPageBudget(2)
	ctx := t.Context()
	for range 2 {
		if err := b.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := b.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third Acquire = %v, want it to wait until its context ends", err)
	}
	got := make(chan error, 1)
	go func() { got <- b.Acquire(ctx) }()
	b.Release()
	if err := <-got; err != nil {
		t.Fatalf("Acquire after a Release = %v", err)
	}
	var none *PageBudget // no budget: room for everything
	if err := none.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	none.Release()
}
