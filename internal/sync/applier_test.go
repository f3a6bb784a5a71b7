package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/errclass"
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

// fakeSink applies batches, failing with errs (one per call, then err),
// and refusing the records whose ids are in reject, as a sink does: the
// others written, those in Result.Rejected.
type fakeSink struct {
	err     error
	errs    []error
	reject  map[string]error
	calls   int
	batches []record.Batch
}

func (s *fakeSink) EnsureTable(context.Context, schema.Table) error { return nil }
func (s *fakeSink) Close() error                                    { return nil }
func (s *fakeSink) Apply(_ context.Context, _ schema.TableName, b record.Batch) (sink.Result, error) {
	s.calls++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return sink.Result{}, err
		}
	} else if s.err != nil {
		return sink.Result{}, s.err
	}
	var res sink.Result
	good := record.Batch{Entity: b.Entity, Columns: b.Columns, Overwrite: b.Overwrite}
	for _, r := range b.Upserts {
		if err, bad := s.reject[r.ID]; bad {
			res.Rejected = append(res.Rejected, sink.Rejection{ID: r.ID, Version: r.Version, Err: err, Class: errclass.Record})
			continue
		}
		good.Upserts = append(good.Upserts, r)
	}
	for _, d := range b.Deletes {
		if err, bad := s.reject[d.ID]; bad {
			res.Rejected = append(res.Rejected, sink.Rejection{ID: d.ID, Version: d.Version, Delete: true, Err: err, Class: errclass.Record})
			continue
		}
		good.Deletes = append(good.Deletes, d)
	}
	s.batches = append(s.batches, good)
	res.Upserted, res.Deleted = len(good.Upserts), len(good.Deletes)
	return res, nil
}

type fakeDest struct {
	s   *fakeSink
	err error // an open that fails
}

func (d fakeDest) Sink(context.Context, profile.Profile) (sink.Sink, error) {
	if d.err != nil {
		return nil, d.err
	}
	return d.s, nil
}

type fakeCounters struct{ got []state.Counters }

func (c *fakeCounters) AddCounters(_ context.Context, _, _ string, d state.Counters) error {
	c.got = append(c.got, d)
	return nil
}

// sum is every increment added, the last error kept.
func (c *fakeCounters) sum() state.Counters {
	var t state.Counters
	for _, d := range c.got {
		t.Succeeded += d.Succeeded
		t.Failed += d.Failed
		t.Skipped += d.Skipped
		t.Deleted += d.Deleted
		if d.LastErrorAt.After(t.LastErrorAt) || d.LastError != "" {
			t.LastError, t.LastErrorClass, t.LastErrorAt = d.LastError, d.LastErrorClass, d.LastErrorAt
		}
		if d.LastApplied.After(t.LastApplied) {
			t.LastApplied = d.LastApplied
		}
	}
	return t
}

type failure struct {
	entity, id, change, reason string
	payload                    []byte
}

type fakeFailures struct {
	mu            gosync.Mutex
	failed        []failure
	unprocessable []string
	// kept are the unprocessable bodies as stored, with their profile.
	kept []keptBody
}

type keptBody struct {
	profile string
	body    []byte
}

func (f *fakeFailures) WriteFailure(_ context.Context, _, entity, id, change, reason string, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = append(f.failed, failure{entity, id, change, reason, payload})
	return nil
}
func (f *fakeFailures) WriteUnprocessable(_ context.Context, profile string, body []byte, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unprocessable = append(f.unprocessable, reason)
	f.kept = append(f.kept, keptBody{profile, bytes.Clone(body)})
	return nil
}

// fakeClaims keeps units in memory; the name "unavailable" fails to read.
type fakeClaims map[string][]byte

func (c fakeClaims) PutClaim(_ context.Context, name string, body []byte) error {
	c[name] = bytes.Clone(body)
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
	a := NewApplier(profs, fakeDest{s: s}, counters, fails, &ApplierOptions{Logger: slog.New(slog.DiscardHandler)})

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
	if c := counters.sum(); c.Failed != int64(want) || c.Succeeded != 0 || !strings.Contains(c.LastError, "read-only") || c.LastErrorClass != "unknown" {
		t.Errorf("counters = %+v, want %d failed and the last error of class unknown", c, want)
	}

	// The transport's own limit ends retries earlier than the profile's.
	fails.failed = nil
	a = NewApplier(profs, fakeDest{s: s}, counters, fails, &ApplierOptions{MaxDequeueCount: 2, Logger: slog.New(slog.DiscardHandler)})
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
			a := NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, fails, &ApplierOptions{Claims: store, Logger: slog.New(slog.DiscardHandler)})
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
	a := NewApplier(fakeProfiles{"p": {Name: "p", Entities: []string{"account"}}}, fakeDest{s: s}, &fakeCounters{}, &fakeFailures{},
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
	s := &fakeSink{err: errors.New("something no rule knows")} // class unknown: the old rule
	q, fails := &fakeRequeue{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, fails, &ApplierOptions{Requeue: q, Logger: slog.New(slog.DiscardHandler)})

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

// A claim-check batch that keeps failing (an error of no known class) ends
// as failed records like any other: the attempt count is the reference's,
// and every copy differs from the one before (Service Bus duplicate
// detection would drop an identical one).
func TestApplierRequeuesClaimsUntilFailed(t *testing.T) {
	retries, interval := 2, 5
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries, RetryIntervalSeconds: &interval}}
	m := sampleMessage()
	m.Profile = "p"
	claims := fakeClaims{"p/account/1.0-1.json": m.Encode()}
	ref := Message{ID: "p/account/1.0", Profile: "p", Entity: "account", Kind: KindDelta, Page: 1, Claim: "p/account/1.0-1.json"}
	body := ref.Encode()
	s := &fakeSink{err: errors.New("something no rule knows")}
	q, fails := &fakeRequeue{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, fails, &ApplierOptions{Claims: claims, Requeue: q, Logger: slog.New(slog.DiscardHandler)})
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

// A value too long for its column fails that record alone (it used to fail
// the whole batch): the other records of the claimed batch are applied and
// counted at once; only the refused record travels on, inline, through the
// profile's retries (the poller may widen the column meanwhile), then
// becomes the only failed record, with its own reason.
func TestApplierRetriesOnlyTheRefusedRecords(t *testing.T) {
	retries, interval := 2, 7
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries, RetryIntervalSeconds: &interval}}
	m := sampleMessage()
	m.Profile = "p"
	bad := m.Batch.Upserts[1]
	claims := fakeClaims{"p/account/1.0-1.json": m.Encode()}
	ref := Message{ID: "p/account/1.0", Profile: "p", Entity: "account", Kind: KindDelta, Page: 1, Claim: "p/account/1.0-1.json"}
	tooLong := &sink.BatchError{Table: schema.TableName{Name: "account"}, ID: bad.ID, Column: "name", Reason: "value of 300 characters for a column of 160"}
	s := &fakeSink{reject: map[string]error{bad.ID: tooLong}}
	q, fails, counters := &fakeRequeue{}, &fakeFailures{}, &fakeCounters{}
	a := NewApplier(profs, fakeDest{s: s}, counters, fails, &ApplierOptions{Claims: claims, Requeue: q, Logger: slog.New(slog.DiscardHandler)})

	rep, err := a.Apply(t.Context(), ref.Encode(), Delivery{DequeueCount: 1})
	if err != nil || rep.Outcome != Partial || rep.Class != errclass.Record || len(rep.Result.Rejected) != 1 {
		t.Fatalf("first apply: %v %s, %v; want Partial with one rejection", rep.Outcome, rep.Class, err)
	}
	if got := s.batches[0]; len(got.Upserts) != 1 || len(got.Deletes) != 1 {
		t.Fatalf("applied %d upserts and %d deletes at once, want the good upsert and the delete", len(got.Upserts), len(got.Deletes))
	}
	if c := counters.sum(); c.Succeeded != 2 || c.Failed != 0 || c.LastErrorClass != "record" {
		t.Fatalf("counters after the first apply: %+v; want the two good records counted", c)
	}
	for attempt := 1; attempt <= retries; attempt++ {
		last := q.sent[len(q.sent)-1]
		back, err := DecodeMessage(last.body)
		if err != nil || back.Claim != "" || back.Attempt != attempt || len(back.Batch.Upserts) != 1 || back.Batch.Upserts[0].ID != bad.ID || len(back.Batch.Deletes) != 0 {
			t.Fatalf("copy %d = %+v, %v; want the refused record alone, inline, at attempt %d", attempt, back, err, attempt)
		}
		if last.delay != 7*time.Second {
			t.Fatalf("copy %d sent after %v, want the profile's 7 s", attempt, last.delay)
		}
		rep, err = a.Apply(t.Context(), last.body, Delivery{DequeueCount: 1})
		want := Retry
		if attempt == retries {
			want = Failed
		}
		if err != nil || rep.Outcome != want {
			t.Fatalf("apply of copy %d: %v, %v; want %v", attempt, rep.Outcome, err, want)
		}
	}
	if len(fails.failed) != 1 || fails.failed[0].id != bad.ID || !strings.Contains(fails.failed[0].reason, "column name") {
		t.Fatalf("failed records %+v; want only %s, with its reason", fails.failed, bad.ID)
	}
	if back, err := DecodeMessage(fails.failed[0].payload); err != nil || len(back.Batch.Upserts) != 1 || back.Batch.Upserts[0].ID != bad.ID {
		t.Fatalf("failed record payload %+v, %v", back, err)
	}
	if c := counters.sum(); c.Succeeded != 2 || c.Failed != 1 {
		t.Fatalf("final counters %+v; want 2 succeeded, 1 failed", c)
	}
}

// A batch the destination refuses as a whole (its columns do not fit the
// table: record class) takes every record through the retries.
func TestApplierBatchRefusedAsAWhole(t *testing.T) {
	retries := 1
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries}}
	m := sampleMessage()
	m.Profile = "p"
	s := &fakeSink{err: &sink.BatchError{Table: schema.TableName{Name: "account"}, Column: "name", Reason: "batch kind string does not fit column type int"}}
	q, fails := &fakeRequeue{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, fails, &ApplierOptions{Requeue: q, Logger: slog.New(slog.DiscardHandler)})
	rep, err := a.Apply(t.Context(), m.Encode(), Delivery{DequeueCount: 1})
	if err != nil || rep.Outcome != Retry || rep.Class != errclass.Record || len(q.sent) != 1 {
		t.Fatalf("first apply: %v %s, %v", rep.Outcome, rep.Class, err)
	}
	if back, _ := DecodeMessage(q.sent[0].body); back.Attempt != 1 || len(back.Batch.Upserts) != len(m.Batch.Upserts) || len(back.Batch.Deletes) != 1 {
		t.Fatalf("copy %+v; want the whole batch at attempt 1", back)
	}
	if rep, err := a.Apply(t.Context(), q.sent[0].body, Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Failed || len(fails.failed) != 3 {
		t.Fatalf("second apply: %v, %v, %d failed records; want all 3 failed", rep.Outcome, err, len(fails.failed))
	}
}

// countLevel counts log records at a level and keeps their messages.
type countLevel struct {
	mu    gosync.Mutex
	level slog.Level
	msgs  []string
}

func (c *countLevel) Enabled(context.Context, slog.Level) bool { return true }
func (c *countLevel) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Level == c.level {
		c.msgs = append(c.msgs, r.Message)
	}
	return nil
}
func (c *countLevel) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countLevel) WithGroup(string) slog.Handler      { return c }

// A destination that cannot take a batch (unreachable, schema behind,
// refused login) uses none of the record's retries, however long it lasts:
// the message comes back with its attempt count unchanged after a wait
// that doubles from the retry interval up to MaxWait, the entity's
// counters say why, one WARN line is logged for the message, and no failed
// record is written. When the destination is back, the batch is applied.
func TestApplierWaitsForTheDestination(t *testing.T) {
	retries, interval := 2, 5
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}, RetryCount: &retries, RetryIntervalSeconds: &interval}}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name  string
		err   error
		open  bool // the error comes from opening the sink
		class errclass.Class
	}{
		{"connection refused", fmt.Errorf("postgres sink: apply to public.account: %w", refused), false, errclass.Transient},
		{"refused while opening the sink", fmt.Errorf("profile p: opening postgres destination: %w", refused), true, errclass.Transient},
		{"deadlock", errclass.With(errclass.Transient, errors.New("deadlock detected")), false, errclass.Transient},
		{"table lacks a column", &sink.UnknownColumnError{Table: schema.TableName{Name: "account"}, Column: "new_x"}, false, errclass.Schema},
		{"missing table", &sink.NoTableError{Table: schema.TableName{Name: "account"}}, false, errclass.Schema},
		{"login refused", errclass.With(errclass.Configuration, errors.New("password authentication failed")), false, errclass.Configuration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const outage = 12 // deliveries, far past the retries
			s := &fakeSink{}
			dest := fakeDest{s: s}
			if tt.open {
				dest.err = tt.err
			} else {
				s.errs = slices.Repeat([]error{tt.err}, outage)
			}
			q, fails, counters := &fakeRequeue{}, &fakeFailures{}, &fakeCounters{}
			warns := &countLevel{level: slog.LevelWarn}
			a := NewApplier(profs, dest, counters, fails, &ApplierOptions{Requeue: q, MaxWait: time.Minute, Logger: slog.New(warns)})
			m := sampleMessage()
			m.Profile, m.Attempt = "p", 1 // one record retry used already: waiting must not add any
			body := m.Encode()
			want := []time.Duration{5, 10, 20, 40, 60, 60, 60, 60, 60, 60, 60, 60}
			for i := range outage {
				rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 1})
				if err != nil || rep.Outcome != Waiting || rep.Class != tt.class {
					t.Fatalf("delivery %d: %v %s, %v; want Waiting, class %s", i+1, rep.Outcome, rep.Class, err, tt.class)
				}
				last := q.sent[len(q.sent)-1]
				back, err := DecodeMessage(last.body)
				if err != nil || back.Attempt != 1 || back.Waits != i+1 || len(back.Batch.Upserts) != len(m.Batch.Upserts) {
					t.Fatalf("copy %d = %+v, %v; want the whole batch, attempt 1, waits %d", i+1, back, err, i+1)
				}
				if last.delay != want[i]*time.Second {
					t.Fatalf("copy %d waits %v, want %v", i+1, last.delay, want[i]*time.Second)
				}
				body = last.body
			}
			if len(fails.failed) != 0 {
				t.Fatalf("%d failed records written during the outage", len(fails.failed))
			}
			if c := counters.sum(); c.LastErrorClass != tt.class.String() || c.LastError == "" || c.Failed != 0 {
				t.Fatalf("counters %+v; want the last error of class %s", c, tt.class)
			}
			if len(warns.msgs) != 1 {
				t.Fatalf("%d WARN lines for one waiting message, want 1: %q", len(warns.msgs), warns.msgs)
			}
			// Back: the next delivery applies the batch.
			if tt.open {
				a.dest = fakeDest{s: s}
			}
			if rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Applied {
				t.Fatalf("after the outage: %v, %v; want Applied", rep.Outcome, err)
			}
		})
	}
}

// Without a Requeuer a waiting batch is left to the transport, which
// redelivers it; it never becomes failed records, even at the transport's
// last delivery (the host's poison queue keeps it whole after that).
func TestApplierWaitsWithoutARequeuer(t *testing.T) {
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}}}
	s := &fakeSink{err: errclass.With(errclass.Transient, errors.New("connection reset"))}
	fails := &fakeFailures{}
	a := NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, fails, &ApplierOptions{MaxDequeueCount: 5, Logger: slog.New(slog.DiscardHandler)})
	m := sampleMessage()
	m.Profile = "p"
	for d := int64(1); d <= 5; d++ {
		if rep, err := a.Apply(t.Context(), m.Encode(), Delivery{DequeueCount: d}); err == nil || rep.Outcome != Retry {
			t.Fatalf("delivery %d: %v, %v; want an error so the transport redelivers", d, rep.Outcome, err)
		}
	}
	if len(fails.failed) != 0 {
		t.Fatalf("%d failed records", len(fails.failed))
	}
}

// The profile store not answering is not the records' fault either.
func TestApplierWaitsWhenTheProfileCannotBeRead(t *testing.T) {
	q := &fakeRequeue{}
	a := NewApplier(brokenProfiles{}, fakeDest{s: &fakeSink{}}, &fakeCounters{}, &fakeFailures{}, &ApplierOptions{Requeue: q, Logger: slog.New(slog.DiscardHandler)})
	m := sampleMessage()
	m.Profile = "p"
	rep, err := a.Apply(t.Context(), m.Encode(), Delivery{DequeueCount: 1})
	if err != nil || rep.Outcome != Waiting || rep.Class != errclass.Transient || len(q.sent) != 1 {
		t.Fatalf("Apply = %v %s, %v; want Waiting (transient)", rep.Outcome, rep.Class, err)
	}
}

type brokenProfiles struct{}

func (brokenProfiles) GetProfile(context.Context, string) (profile.Profile, error) {
	return profile.Profile{}, errors.New("table service unavailable")
}
func (brokenProfiles) ListProfiles(context.Context) ([]profile.Profile, error) { return nil, nil }

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
	profs := &countingProfiles{fakeProfiles: fakeProfiles{"p": {Name: "p", Entities: []string{"contact"}, Revision: "r1"}}}
	s, fails := &fakeSink{}, &fakeFailures{}
	a := NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, fails, &ApplierOptions{Logger: slog.New(slog.DiscardHandler)})
	contact := sampleMessage()
	contact.Profile, contact.Entity, contact.Batch.Entity = "p", "contact", "contact"
	contact.ProfileVersion = profs.fakeProfiles["p"].Revision
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
	added.Revision = "r2"
	profs.fakeProfiles["p"] = added
	for _, tc := range []struct {
		name    string
		version string
	}{{"message naming the new version", added.Revision}, {"message of an older poller without a version", ""}} {
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

// countingEntities counts the state reads of the applier's schema check.
type countingEntities struct {
	memEntities
	reads int
}

func (c *countingEntities) GetEntity(ctx context.Context, p, e string) (state.EntityState, error) {
	c.reads++
	return c.memEntities.GetEntity(ctx, p, e)
}

// A message read for a newer schema than the entity's table follows waits
// for the SchemaChange function (class schema, no retry used, the sink
// untouched); once the state says the table follows, it applies. Messages
// of the table's schema or an older one, and those without one, apply at
// once without reading the state again. A backfill reaches the sink with
// Overwrite set.
func TestApplierWaitsForTheTablesSchema(t *testing.T) {
	profs := fakeProfiles{"p": {Name: "p", Entities: []string{"account"}}}
	ents := &countingEntities{memEntities: memEntities{"p/account": {Profile: "p", Entity: "account", Schema: "1000.00000000000000aa"}}}
	s := &fakeSink{}
	q := &fakeRequeue{}
	counters := &fakeCounters{}
	a := NewApplier(profs, fakeDest{s: s}, counters, &fakeFailures{}, &ApplierOptions{Tables: ents, Requeue: q, Logger: slog.New(slog.DiscardHandler)})
	msg := func(schema string, kind Kind) []byte {
		m := sampleMessage()
		m.Profile, m.Schema, m.Kind = "p", schema, kind
		if kind == KindBackfill {
			m.Batch.Deletes = nil
		}
		return m.Encode()
	}

	rep, err := a.Apply(t.Context(), msg("2000.00000000000000bb", KindDelta), Delivery{DequeueCount: 1})
	var behind *SchemaBehindError
	if err != nil || rep.Outcome != Waiting || rep.Class != errclass.Schema || !errors.As(rep.Err, &behind) {
		t.Fatalf("newer schema: %+v, %v", rep, err)
	}
	if behind.Table != "1000.00000000000000aa" || behind.Message != "2000.00000000000000bb" || s.calls != 0 || len(q.sent) != 1 {
		t.Fatalf("error %v, %d sink calls, %d sent again", behind, s.calls, len(q.sent))
	}
	if again, err := DecodeMessage(q.sent[0].body); err != nil || again.Attempt != 0 || again.Waits != 1 || again.Schema != "2000.00000000000000bb" {
		t.Fatalf("sent again: %+v, %v", again, err)
	}
	if c := counters.sum(); c.LastErrorClass != "schema" || !strings.Contains(c.LastError, "SchemaChange") {
		t.Errorf("counters keep %q (%s)", c.LastError, c.LastErrorClass)
	}

	ents.memEntities["p/account"] = state.EntityState{Profile: "p", Entity: "account", Schema: "2000.00000000000000bb"}
	if rep, err := a.Apply(t.Context(), q.sent[0].body, Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Applied || s.calls != 1 {
		t.Fatalf("after the table followed: %+v, %v, %d sink calls", rep, err, s.calls)
	}
	reads := ents.reads
	for _, body := range [][]byte{msg("2000.00000000000000bb", KindDelta), msg("1500.00000000000000cc", KindInitial), msg("", KindDelta), msg("2000.00000000000000bb", KindBackfill)} {
		if rep, err := a.Apply(t.Context(), body, Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Applied {
			t.Fatalf("%s: %+v, %v", body[:80], rep, err)
		}
	}
	if ents.reads != reads {
		t.Errorf("%d state reads for messages the table is not behind, want none", ents.reads-reads)
	}
	if n := len(s.batches); n != 5 || s.batches[n-2].Overwrite || !s.batches[n-1].Overwrite {
		t.Errorf("%d batches; overwrite of the last two: %v %v, want false true", n, s.batches[n-2].Overwrite, s.batches[n-1].Overwrite)
	}

	// A state store that does not answer is not the records' fault.
	a = NewApplier(profs, fakeDest{s: s}, &fakeCounters{}, &fakeFailures{}, &ApplierOptions{Tables: brokenEntities{}, Requeue: q, Logger: slog.New(slog.DiscardHandler)})
	if rep, err := a.Apply(t.Context(), msg("3000.00000000000000dd", KindDelta), Delivery{DequeueCount: 1}); err != nil || rep.Outcome != Waiting || rep.Class != errclass.Transient {
		t.Fatalf("state store down: %+v, %v", rep, err)
	}
}

type brokenEntities struct{}

func (brokenEntities) GetEntity(context.Context, string, string) (state.EntityState, error) {
	return state.EntityState{}, errors.New("table service unavailable")
}

// A message that cannot be understood goes to its profile's container
// when its body names a profile that exists (however broken the rest),
// else to the shared one; its bytes are kept exactly, binary included.
func TestUnprocessableKeptWithItsProfile(t *testing.T) {
	profiles := fakeProfiles{"crm": {Name: "crm", Entities: []string{"account"}}}
	binary := []byte{0xff, 0xfe, 0x00, '{', 0x80, '"', 0xc3}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"unknown version", []byte(`{"v":9,"profile":"crm","entity":"account","kind":"delta"}`), "crm"},
		{"broken record after the profile", []byte(`{"v":1,"id":"x","profile":"crm","entity":"account","kind":"delta","columns":[["name","string"]],"upserts":[["no-guid",1,["x"]]]}`), "crm"},
		{"truncated after the profile", []byte(`{"v":1,"profile":"crm","entity":"acc`), "crm"},
		{"profile that does not exist", []byte(`{"v":9,"profile":"nosuch","entity":"account"}`), ""},
		{"profile not a string", []byte(`{"v":9,"profile":7}`), ""},
		{"broken before the profile", []byte(`{"v":9,"x":[1,,2],"profile":"crm"}`), ""},
		{"binary", binary, ""},
		{"not JSON", []byte("hello"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fails := &fakeFailures{}
			a := NewApplier(profiles, fakeDest{s: &fakeSink{}}, &fakeCounters{}, fails, &ApplierOptions{Logger: slog.New(slog.DiscardHandler)})
			rep, err := a.Apply(t.Context(), tt.body, Delivery{DequeueCount: 1})
			if err != nil || rep.Outcome != Unprocessable || len(fails.kept) != 1 {
				t.Fatalf("Apply = %+v, %v; kept %d; want one unprocessable", rep, err, len(fails.kept))
			}
			if k := fails.kept[0]; k.profile != tt.want || !bytes.Equal(k.body, tt.body) {
				t.Fatalf("kept in %q: %q; want %q, the body byte for byte", k.profile, k.body, tt.want)
			}
		})
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
