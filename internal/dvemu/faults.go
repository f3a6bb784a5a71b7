package dvemu

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults configures service-protection limits and injected failures on Web
// API requests (the admin API is never affected). Rates are shares of
// requests in [0,1], drawn from a generator seeded by Options.RandSeed, so a
// given request sequence fails the same way every run.
type Faults struct {
	// RequestLimit requests per Window per emulator (Dataverse: 6,000 per
	// 300 s per user per web server). 0 = 6000; negative = unlimited.
	RequestLimit int
	Window       time.Duration // 0 = 300 s
	// ConcurrencyLimit is the number of requests in flight (Dataverse: 52).
	// 0 = 52; negative = unlimited.
	ConcurrencyLimit int
	// ExecutionLimit is the combined time spent serving requests per Window
	// (Dataverse: 1,200,000 ms per 300 s). 0 = 20 min; negative = unlimited.
	ExecutionLimit time.Duration

	ThrottleRate    float64       // answer 429 (code 0x80072322) regardless of the limits
	RetryAfter      time.Duration // Retry-After of injected 429s; 0 = 1 s
	ServerErrorRate float64       // answer ServerErrorStatus with a generic SQL error
	// ServerErrorStatus is the injected 5xx; 0 = 500.
	ServerErrorStatus int
	SlowRate          float64       // delay the response by SlowDelay
	SlowDelay         time.Duration // 0 = 2 s
	DropRate          float64       // hijack the connection and close it without answering
}

// validate rejects settings that cannot do what they say; rates are drawn
// from one number, so together they cannot exceed 1.
func (c Faults) validate() error {
	sum := 0.0
	for _, r := range []struct {
		name string
		v    float64
	}{{"ThrottleRate", c.ThrottleRate}, {"ServerErrorRate", c.ServerErrorRate}, {"SlowRate", c.SlowRate}, {"DropRate", c.DropRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also rejects NaN
			return fmt.Errorf("Faults.%s %v is outside [0,1]", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("Faults rates add up to %v, more than 1", sum)
	}
	if s := c.ServerErrorStatus; s != 0 && (s < 500 || s > 599) {
		return fmt.Errorf("Faults.ServerErrorStatus %d is not a 5xx status", s)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Window", c.Window}, {"RetryAfter", c.RetryAfter}, {"SlowDelay", c.SlowDelay}} {
		if d.v < 0 {
			return fmt.Errorf("Faults.%s %v is negative", d.name, d.v)
		}
	}
	return nil
}

// faultState is the mutable side of Faults.
type faultState struct {
	cfg      Faults
	now      func() time.Time
	inFlight atomic.Int64

	mu     sync.Mutex
	rng    *rand.Rand
	recent []time.Time // request times inside the window, oldest first
	spent  []execSpan  // finished requests' serving times inside the window
	total  time.Duration
}

type execSpan struct {
	at time.Time
	d  time.Duration
}

func newFaultState(cfg Faults, seed int64, now func() time.Time) *faultState {
	if cfg.RequestLimit == 0 {
		cfg.RequestLimit = 6000
	}
	if cfg.Window == 0 {
		cfg.Window = 300 * time.Second
	}
	if cfg.ConcurrencyLimit == 0 {
		cfg.ConcurrencyLimit = 52
	}
	if cfg.ExecutionLimit == 0 {
		cfg.ExecutionLimit = 20 * time.Minute
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.ServerErrorStatus == 0 {
		cfg.ServerErrorStatus = http.StatusInternalServerError
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 2 * time.Second
	}
	return &faultState{cfg: cfg, now: now, rng: rand.New(rand.NewPCG(uint64(seed), hash64("faults")))}
}

// fault is what to do with one request.
type fault int

const (
	faultNone fault = iota
	faultThrottle
	faultServerError
	faultSlow
	faultDrop
)

// admit applies the limits and draws an injected fault. It returns a
// release func to call when the request is done, or writes a 429 itself and
// returns ok=false.
func (f *faultState) admit(w http.ResponseWriter) (release func(), kind fault, ok bool) {
	n := f.inFlight.Add(1)
	start := time.Now()
	release = func() {
		f.inFlight.Add(-1)
		if f.cfg.ExecutionLimit > 0 {
			d := time.Since(start)
			f.mu.Lock()
			f.spent = append(f.spent, execSpan{at: f.now(), d: d})
			f.total += d
			f.mu.Unlock()
		}
	}
	if f.cfg.ConcurrencyLimit > 0 && n > int64(f.cfg.ConcurrencyLimit) {
		f.inFlight.Add(-1)
		throttle(w, time.Second, codeConcurrencyExceed, fmt.Sprintf("Number of concurrent requests exceeded the limit of %d.", f.cfg.ConcurrencyLimit))
		return nil, faultNone, false
	}
	f.mu.Lock()
	now := f.now()
	if f.cfg.RequestLimit > 0 {
		cut := 0
		for cut < len(f.recent) && now.Sub(f.recent[cut]) >= f.cfg.Window {
			cut++
		}
		f.recent = f.recent[cut:]
		if len(f.recent) >= f.cfg.RequestLimit {
			wait := f.cfg.Window - now.Sub(f.recent[0])
			f.mu.Unlock()
			f.inFlight.Add(-1)
			throttle(w, wait, codeRequestsExceeded, fmt.Sprintf("Number of requests exceeded the limit of %d over time window of %d seconds.",
				f.cfg.RequestLimit, int(f.cfg.Window/time.Second)))
			return nil, faultNone, false
		}
		f.recent = append(f.recent, now)
		w.Header().Set("x-ms-ratelimit-burst-remaining-xrm-requests", strconv.Itoa(f.cfg.RequestLimit-len(f.recent)))
	}
	if f.cfg.ExecutionLimit > 0 {
		cut := 0
		for cut < len(f.spent) && now.Sub(f.spent[cut].at) >= f.cfg.Window {
			f.total -= f.spent[cut].d
			cut++
		}
		f.spent = f.spent[cut:]
		if f.total >= f.cfg.ExecutionLimit {
			wait := f.cfg.Window - now.Sub(f.spent[0].at)
			f.mu.Unlock()
			f.inFlight.Add(-1)
			throttle(w, wait, codeExecutionExceeded, fmt.Sprintf("Combined execution time of incoming requests exceeded limit of %s milliseconds over time window of %d seconds. "+
				"Decrease number of concurrent requests or reduce the duration of requests and try again later.", group(strconv.FormatInt(f.cfg.ExecutionLimit.Milliseconds(), 10)), int(f.cfg.Window/time.Second)))
			return nil, faultNone, false
		}
	}
	x := f.rng.Float64()
	f.mu.Unlock()

	switch c := f.cfg; {
	case x < c.ThrottleRate:
		kind = faultThrottle
	case x < c.ThrottleRate+c.ServerErrorRate:
		kind = faultServerError
	case x < c.ThrottleRate+c.ServerErrorRate+c.SlowRate:
		kind = faultSlow
	case x < c.ThrottleRate+c.ServerErrorRate+c.SlowRate+c.DropRate:
		kind = faultDrop
	}
	return release, kind, true
}

// inject carries out a drawn fault; it returns true when the request was
// answered (or dropped) and must not be served.
func (f *faultState) inject(ctx context.Context, w http.ResponseWriter, kind fault) bool {
	switch kind {
	case faultThrottle:
		throttle(w, f.cfg.RetryAfter, codeRequestsExceeded, fmt.Sprintf("Number of requests exceeded the limit of %d over time window of %d seconds.",
			max(f.cfg.RequestLimit, 0), int(f.cfg.Window/time.Second)))
		return true
	case faultServerError:
		writeError(w, f.cfg.ServerErrorStatus, codeServerError, "Sql error: Generic SQL error. CRM ErrorCode: -2147204784 Sql ErrorCode: -2146232060 Sql Number: 1205")
		return true
	case faultSlow:
		t := time.NewTimer(f.cfg.SlowDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return true
		}
	case faultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		// Without hijacking (HTTP/2), abort the handler: net/http resets the stream.
		panic(http.ErrAbortHandler)
	}
	return false
}

func throttle(w http.ResponseWriter, wait time.Duration, code, message string) {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, code, message)
}
