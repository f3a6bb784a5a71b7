package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/handlers"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/settings"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// pruneEvery is how often the app prunes the failures containers.
const pruneEvery = time.Hour

// retention reads FAILURES_RETENTION_DAYS: how many days failed records,
// failure logs and unprocessable messages are kept (default 30, as DES;
// 0 leaves the ageing to a storage lifecycle rule alone).
func retention(s *settings.Settings) (time.Duration, error) {
	v := s.Get("FAILURES_RETENTION_DAYS")
	if v == "" {
		return failures.DefaultRetention, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 3650 {
		return 0, fmt.Errorf("app setting FAILURES_RETENTION_DAYS: %q is not a number of days (0-3650; 0 = no pruning by the app)", v)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// pruner ages failure blobs out.
type pruner interface {
	Prune(ctx context.Context, retention time.Duration) (int, error)
}

// prunedPoller is the poller the ChangePoller function runs, followed, at
// most once per pruneEvery, by a prune of the failures containers: in Azure
// the storage lifecycle rule also deletes them (infra/main.bicep), but
// Azurite and other accounts have none.
type prunedPoller struct {
	handlers.Poller
	fails     pruner
	retention time.Duration
	log       *slog.Logger
	now       func() time.Time

	mu   gosync.Mutex
	last time.Time
}

func (p *prunedPoller) PollAll(ctx context.Context) ([]dsync.EntityResult, error) {
	res, err := p.Poller.PollAll(ctx)
	p.prune(ctx)
	return res, err
}

func (p *prunedPoller) prune(ctx context.Context) {
	if p.retention <= 0 {
		return
	}
	p.mu.Lock()
	now := p.now()
	due := p.last.IsZero() || now.Sub(p.last) >= pruneEvery
	if due {
		p.last = now
	}
	p.mu.Unlock()
	if !due {
		return
	}
	n, err := p.fails.Prune(ctx, p.retention)
	switch {
	case err != nil:
		p.log.Warn("pruning old failed records failed; the next poll tries again", "err", err)
		p.mu.Lock()
		p.last = time.Time{}
		p.mu.Unlock()
	case n > 0:
		p.log.Info("old failed records pruned", "blobs", n, "olderThanDays", int(p.retention.Hours()/24))
	}
}
