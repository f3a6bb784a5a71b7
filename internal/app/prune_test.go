package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/settings"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

type nopPoller struct{ polls int }

func (p *nopPoller) PollAll(context.Context) ([]dsync.EntityResult, error) {
	p.polls++
	return nil, nil
}

type countingPruner struct {
	calls int
	got   time.Duration
	err   error
}

func (c *countingPruner) Prune(_ context.Context, d time.Duration) (int, error) {
	c.calls++
	c.got = d
	return 1, c.err
}

// The poller's timer prunes at most once an hour, again after a failed
// prune, and never with retention 0.
func TestPrunedPoller(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	pr := &countingPruner{}
	inner := &nopPoller{}
	p := &prunedPoller{Poller: inner, fails: pr, retention: 30 * 24 * time.Hour, log: slog.New(slog.DiscardHandler), now: func() time.Time { return now }}
	for _, step := range []struct {
		advance time.Duration
		fail    bool
		calls   int
	}{{0, false, 1}, {30 * time.Minute, false, 1}, {31 * time.Minute, true, 2}, {time.Minute, false, 3}, {time.Minute, false, 3}} {
		now = now.Add(step.advance)
		pr.err = nil
		if step.fail {
			pr.err = errors.New("storage down")
		}
		if _, err := p.PollAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		if pr.calls != step.calls {
			t.Fatalf("after %v: %d prunes, want %d", step.advance, pr.calls, step.calls)
		}
	}
	if inner.polls != 5 || pr.got != 30*24*time.Hour {
		t.Fatalf("%d polls, retention %v", inner.polls, pr.got)
	}
	off := &prunedPoller{Poller: inner, fails: pr, log: slog.New(slog.DiscardHandler), now: time.Now}
	if _, err := off.PollAll(t.Context()); err != nil || pr.calls != 3 {
		t.Fatalf("retention 0 pruned (%d calls)", pr.calls)
	}
}

func TestRetentionSetting(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 30 * 24 * time.Hour, "7": 7 * 24 * time.Hour, "0": 0} {
		got, err := retention(settings.FromMap(map[string]string{"FAILURES_RETENTION_DAYS": v}))
		if err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"-1", "x", "99999"} {
		if _, err := retention(settings.FromMap(map[string]string{"FAILURES_RETENTION_DAYS": v})); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}
