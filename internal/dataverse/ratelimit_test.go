package dataverse

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestLimiterPacesRequests(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		burst    int
		n        int
		min, max time.Duration
	}{
		// The burst passes at once, the rest at the rate: (n-burst)/rate.
		{"burst only", 10, 5, 5, 0, 80 * time.Millisecond},
		{"paced", 50, 1, 11, 200 * time.Millisecond, time.Second},
		{"burst then paced", 40, 4, 12, 200 * time.Millisecond, time.Second},
		{"unlimited", -1, 0, 1000, 0, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(tt.rate, tt.burst)
			start := time.Now()
			var wg sync.WaitGroup
			for range tt.n {
				wg.Go(func() {
					if err := l.wait(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if d := time.Since(start); d < tt.min || d > tt.max {
				t.Errorf("%d waits took %v, want [%v, %v]", tt.n, d, tt.min, tt.max)
			}
		})
	}
}

func TestLimiterCancel(t *testing.T) {
	l := newLimiter(0.001, 1)
	if err := l.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.wait(ctx); err == nil {
		t.Fatal("wait did not honour the context")
	}
	// The cancelled reservation was given back: the debt is one token, not two.
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tokens < -0.01 {
		t.Errorf("tokens = %v after a cancelled wait", l.tokens)
	}
}
