package dataverse

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket keeping the client's request rate under the
// service protection window. A nil limiter is unlimited.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond < 0 {
		return nil
	}
	return &limiter{rate: perSecond, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// wait blocks until a token is available (reserving it) or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens--
	var d time.Duration
	if l.tokens < 0 {
		// Reserve now, wait for the debt to be refilled: waiters queue in order.
		d = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if d == 0 {
		return ctx.Err()
	}
	if err := sleep(ctx, d); err != nil {
		l.mu.Lock()
		l.tokens++ // give back the reservation we will not use
		l.mu.Unlock()
		return err
	}
	return nil
}
