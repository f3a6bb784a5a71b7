package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/dataexport/dataexport/internal/record"
)

// A page read from Dataverse (up to 5,000 records) is one unit of work: it
// travels as one message and is applied in one transaction. A page whose
// message fits the transport (a small delta) travels inline; a larger one is
// stored compressed in Blob storage under a name of its own (UnitName) and
// the message carries that name (Message.Claim). Per-message costs (queue
// receive and delete, host invocation, transaction, counters) are then paid
// once per page instead of once per 48 KiB.

// sendPage sends one page as one unit and returns how many messages it sent
// (0 for an empty page). Without a claim store, a page too large for one
// message is split into several (Split) and sent concurrently; the caller
// checkpoints only after this returns, so after every one is acknowledged.
func (p *Poller) sendPage(ctx context.Context, base Message, upserts []record.Record, dels []record.Delete) (int, error) {
	if len(upserts)+len(dels) == 0 {
		return 0, nil
	}
	if p.o.Claims == nil {
		return p.sendParts(ctx, base, upserts, dels)
	}
	whole := base
	whole.Part = 0
	whole.ID = base.ID + ".0"
	whole.Batch.Upserts, whole.Batch.Deletes = upserts, dels
	if body := whole.encode(p.out.MaxBodyBytes()); body != nil {
		whole.Batch.Upserts, upserts = nil, nil // encoded: let the records go
		if err := p.out.Send(ctx, body); err != nil {
			return 0, fmt.Errorf("enqueueing page %d: %w", base.Page, err)
		}
		return 1, nil
	}
	body := whole.EncodeUnit()
	whole.Batch.Upserts, upserts = nil, nil
	name := UnitName(base.ID, body)
	if err := p.o.Claims.PutClaim(ctx, name, body); err != nil {
		return 0, fmt.Errorf("page %d: storing its %d-byte unit: %w", base.Page, len(body), err)
	}
	ref := whole.envelope()
	ref.Claim = name
	if err := p.out.Send(ctx, ref.Encode()); err != nil {
		// The unit stays: another poll of the same page (one that won the
		// race, or a send that reached the queue despite the error) may
		// have enqueued a reference to this very name. The lifecycle rule
		// removes it if nothing does.
		return 0, fmt.Errorf("enqueueing page %d: %w", base.Page, err)
	}
	return 1, nil
}

// UnitName is the blob name of a page stored as a unit: the page's message
// id (profile/entity/read/page) and a digest of its content. The same page
// read twice with the same content gets the same name, so a repeated write
// is idempotent and the reference message is identical (Service Bus drops
// the duplicate by its body hash). A page read again after its content
// changed gets another name: neither write replaces a unit that a message
// already names, and neither message is taken for a duplicate of the other.
func UnitName(pageID string, body []byte) string {
	sum := sha256.Sum256(body)
	ext := ".json"
	if isUnit(body) {
		ext = ".unit"
	}
	return pageID + "-" + hex.EncodeToString(sum[:8]) + ext
}

// maxConcurrentParts bounds the sends of one page's parts in flight.
const maxConcurrentParts = 8

// sendParts sends a page as messages of at most the transport's size,
// concurrently. It returns how many were acknowledged.
func (p *Poller) sendParts(ctx context.Context, base Message, upserts []record.Record, dels []record.Delete) (int, error) {
	msgs, err := Split(base, upserts, dels, p.out.MaxBodyBytes())
	if err != nil {
		return 0, fmt.Errorf("page %d: %w", base.Page, err)
	}
	bodies := make([][]byte, len(msgs))
	for i := range msgs {
		bodies[i] = msgs[i].Encode()
		if len(bodies[i]) > p.out.MaxBodyBytes() {
			id := ""
			if len(msgs[i].Batch.Upserts) > 0 {
				id = msgs[i].Batch.Upserts[0].ID
			}
			return 0, &TooLargeError{Entity: base.Entity, ID: id, Size: len(bodies[i]), Limit: p.out.MaxBodyBytes()}
		}
	}
	var sent atomic.Int64
	errs := make([]error, len(bodies))
	sem := make(chan struct{}, maxConcurrentParts)
	var wg gosync.WaitGroup
	for i, body := range bodies {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := p.out.Send(ctx, body); err != nil {
				errs[i] = fmt.Errorf("enqueueing page %d part %d: %w", base.Page, i, err)
				return
			}
			sent.Add(1)
		})
	}
	wg.Wait()
	return int(sent.Load()), errors.Join(errs...)
}

// AlreadyApplied: the message names a unit that is gone. Units are deleted
// only after their page was applied or kept as failed records, so this is a
// repeated delivery of a message whose work is done.
const AlreadyApplied Outcome = "already-applied"

// DefaultPageBudget is how many pages (read by the poller, or units being
// applied) a process holds in memory at once. A 5,000-row page of a wide
// entity takes about 12 MB decoded, and as much again while it is read
// or encoded; three keep the process under 150 MB and still let one page
// be read while another is stored and a third applied.
const DefaultPageBudget = 3

// PageBudget bounds the pages a process holds in memory at once: the
// poller's pages from the read to the enqueue, the applier's units from the
// blob read to the commit. Memory then stays flat whatever the number of
// entities, the host's concurrency and the size of a read.
type PageBudget struct{ slots chan struct{} }

// NewPageBudget allows n pages at once (at least one).
func NewPageBudget(n int) *PageBudget {
	return &PageBudget{slots: make(chan struct{}, max(n, 1))}
}

// Acquire waits for a slot. A nil budget has room for everything.
func (b *PageBudget) Acquire(ctx context.Context) error {
	if b == nil {
		return nil
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives a slot back.
func (b *PageBudget) Release() {
	if b != nil {
		<-b.slots
	}
}

// Apply applies one message body. A nil error means the transport may forget
// the message: it was applied, sent again, or kept as failed or
// unprocessable records. A non-nil error means "redeliver it later".
//
// What happens to a message depends on the class of what failed
// (errclass): a record the destination refuses is rejected alone by the
// sink, the others are written at once, and only the rejected records go
// through the profile's retries (a message with just them) before they
// become failed records. A destination that cannot take the batch now
// (unreachable, deadlock, throttling, failover: transient; a table behind
// its metadata: schema; credentials or permissions: configuration) uses no
// retry: the message comes back after a wait that doubles up to MaxWait,
// however long that lasts, and the entity's counters row says why. Any
// other error keeps the old rule: the profile's retries, then failed
// records.
func (a *Applier) Apply(ctx context.Context, body []byte, d Delivery) (Report, error) {
	m, err := DecodeMessage(body)
	if err != nil {
		// Kept with its profile's failures when the body names one that
		// exists, however broken the rest is.
		return a.unprocessable(ctx, a.existing(ctx, namedProfile(body)), body, err)
	}
	if m.Claim == "" {
		return a.apply(ctx, m, m, body, d)
	}
	if a.o.Claims == nil {
		return a.unprocessable(ctx, a.existing(ctx, m.Profile), body, fmt.Errorf("claim %s: %w", m.Claim, &MalformedError{Reason: "a claim-check message arrived but no claim store is configured"}))
	}
	// A unit is a whole page decoded in memory: a few at a time (shared
	// with the poller) keep the process's memory flat whatever the host's
	// concurrency. The sinks serialise writers of a table anyway, so more
	// would only wait holding their pages.
	if err := a.o.Pages.Acquire(ctx); err != nil {
		return Report{Outcome: Retry, Profile: m.Profile, Entity: m.Entity, Err: err}, err
	}
	held := true
	release := func() {
		if held {
			held = false
			a.o.Pages.Release()
		}
	}
	defer release()

	log := a.o.Logger.With("profile", m.Profile, "entity", m.Entity, "message", m.ID, "unit", m.Claim, "dequeueCount", d.DequeueCount)
	full, fullBody, err := a.claimed(ctx, m)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info("unit already applied and removed by an earlier delivery; nothing to do")
		return Report{Outcome: AlreadyApplied, Profile: m.Profile, Entity: m.Entity}, nil
	case err != nil && fullBody != nil:
		// The unit itself is malformed: keep its content, then drop it.
		rep, uerr := a.unprocessable(ctx, a.existing(ctx, m.Profile), fullBody, fmt.Errorf("unit %s: %w", m.Claim, err))
		if uerr == nil {
			a.dropUnit(ctx, m.Claim)
		}
		return rep, uerr
	case err != nil && d.DequeueCount < a.o.MaxDequeueCount:
		log.Warn("reading the unit failed; the message will be redelivered", "err", err)
		return Report{Outcome: Retry, Profile: m.Profile, Entity: m.Entity, Err: err}, fmt.Errorf("message %s: %w", m.ID, err)
	case err != nil:
		return a.unprocessable(ctx, a.existing(ctx, m.Profile), body, fmt.Errorf("unit %s: %w", m.Claim, err))
	}
	mark := &unitMark{name: []byte(m.Claim)}
	rep, err := a.apply(context.WithValue(ctx, requeueMark{}, mark), full, m, fullBody, d)
	release() // the page is written or kept: its memory may go before the unit's blob does
	// The unit goes once no message can need it: the transport may forget
	// the reference (the page is written, kept as failed records or
	// unprocessable, or its refused records travel on inline) and no copy
	// of the reference was sent again.
	if err == nil && !mark.requeued.Load() {
		a.dropUnit(ctx, m.Claim)
	}
	return rep, err
}

// claimed reads the message a claim-check message names. It must be a whole
// message of the same profile and entity. A unit that cannot be decoded is
// returned with its body, so that it can be kept.
func (a *Applier) claimed(ctx context.Context, ref *Message) (*Message, []byte, error) {
	body, err := a.o.Claims.GetClaim(ctx, ref.Claim)
	if err != nil {
		return nil, nil, err
	}
	// The blob's bytes are this call's own and never changed: a unit's
	// texts are cut from them rather than from a copy.
	m, err := decodeOwned(body)
	if err != nil {
		return nil, body, err
	}
	if m.Claim != "" || m.Profile != ref.Profile || m.Entity != ref.Entity {
		return nil, body, &MalformedError{Reason: fmt.Sprintf("claimed body is for %s/%s (claim %q), not %s/%s", m.Profile, m.Entity, m.Claim, ref.Profile, ref.Entity)}
	}
	return m, body, nil
}

func (a *Applier) dropUnit(ctx context.Context, name string) {
	if err := a.o.Claims.DeleteClaim(context.WithoutCancel(ctx), name); err != nil {
		// Harmless: a later delivery applies it again (idempotent), and the
		// lifecycle rule removes it.
		a.o.Logger.Warn("removing an applied unit failed", "unit", name, "err", err)
	}
}

// requeueMark keys the unitMark of the unit being applied: a unit whose
// reference was sent again must stay.
type requeueMark struct{}

// unitMark records whether a message naming the unit was sent again.
type unitMark struct {
	name     []byte
	requeued atomic.Bool
}

// markingRequeuer sets the mark of the unit being applied when a body it
// sends names the unit (a message of just the refused records, sent inline,
// does not need it).
type markingRequeuer struct{ Requeuer }

func (r markingRequeuer) SendAfter(ctx context.Context, body []byte, delay time.Duration) error {
	err := r.Requeuer.SendAfter(ctx, body, delay)
	if mk, ok := ctx.Value(requeueMark{}).(*unitMark); ok && bytes.Contains(body, mk.name) {
		mk.requeued.Store(true) // also on error: the copy may have reached the queue
	}
	return err
}

// MaxBodyBytes passes on the transport's limit, when it says (see
// Applier.tooLarge).
func (r markingRequeuer) MaxBodyBytes() int {
	if s, ok := r.Requeuer.(interface{ MaxBodyBytes() int }); ok {
		return s.MaxBodyBytes()
	}
	return 0
}
