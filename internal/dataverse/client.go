package dataverse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Service limits the defaults stay under (see spec §5: 6,000 requests and 52
// concurrent requests per user per 300 s window).
const (
	MaxPageSize         = 5000
	maxConcurrencyLimit = 50
	defaultConcurrency  = 16
	// 6,000 requests / 300 s = 20/s; keep 10% headroom for other callers of the same user.
	defaultRequestsPerSecond = 18
	defaultBurst             = 20
	defaultMaxRetries        = 8
	defaultRetryDelay        = time.Second
	defaultMaxRetryDelay     = time.Minute
	defaultMaxRetryAfter     = 5 * time.Minute
	// defaultMaxURLLength keeps the URLs the client builds (reads by id) at
	// half of the 32 KB a GET URL is commonly given; Microsoft documents no
	// number for it, only 64 KB for a URL inside $batch.
	defaultMaxURLLength = 16 << 10
)

// ClientOptions configures a Client. The zero value is a production-safe default.
type ClientOptions struct {
	// Transport sends the requests; nil = http.DefaultClient. An *http.Client satisfies it.
	Transport policy.Transporter
	// APIVersion of the Web API; "" = "v9.2".
	APIVersion string
	// PageSize is odata.maxpagesize; 0 = 5000, capped at 5000.
	PageSize int
	// MaxConcurrency caps requests in flight (the service allows 52); 0 = 16, capped at 50.
	MaxConcurrency int
	// RequestsPerSecond is the sustained request rate of the token bucket;
	// 0 = 18/s (under 6,000 per 300 s), negative = unlimited.
	RequestsPerSecond float64
	// Burst is the bucket size; 0 = 20.
	Burst int
	// MaxRetries of one request on 429, 5xx and transport errors; 0 = 8, negative = none.
	MaxRetries int
	// RetryDelay is the base of the jittered exponential backoff used when the
	// service gives no Retry-After; 0 = 1 s.
	RetryDelay time.Duration
	// MaxRetryDelay caps that backoff; 0 = 1 min.
	MaxRetryDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out itself; a
	// longer one is returned at once as a throttling *ResponseError so the caller
	// can reschedule (no long sleeps in a function). 0 = 5 min.
	MaxRetryAfter time.Duration
	// MaxURLLength bounds the URLs the client builds itself: a read by id
	// splits its ids over as many requests as needed. 0 = 16384.
	MaxURLLength int
	// Logger receives retry and throttling events; nil = slog.Default().
	Logger *slog.Logger
	// InsecureAllowHTTP lets a real credential's token travel over plain
	// http to a non-loopback host. Loopback hosts (the emulator) and
	// StaticToken credentials are allowed http without it.
	InsecureAllowHTTP bool
}

// Client reads metadata and changes of one Dataverse environment. It is safe
// for concurrent use.
type Client struct {
	org     *url.URL
	base    string // <org>/api/data/<version>/
	tr      policy.Transporter
	tokens  *tokenCache
	sem     chan struct{}
	limiter *limiter
	opts    ClientOptions
	log     *slog.Logger
	stats   clientStats

	pauseMu    sync.Mutex
	pauseUntil time.Time // set by a 429: no request of this client leaves before it

	langMu sync.Mutex
	lang   int // the org's base language, once read
}

// Stats counts what a client did; read with Client.Stats.
type Stats struct {
	Requests    int64 // HTTP requests sent, retries included
	Retries     int64
	Throttled   int64         // 429 answers received
	RetryWait   time.Duration // total time spent waiting before retries
	MaxInFlight int64         // highest number of concurrent requests observed
}

type clientStats struct {
	requests, retries, throttled, retryWait, inFlight, maxInFlight atomic.Int64
}

// NewClient returns a client of the environment at orgURL
// (https://<org>.crm.dynamics.com), authenticating with cred for the scope
// "<orgURL>/.default".
func NewClient(orgURL string, cred azcore.TokenCredential, o *ClientOptions) (*Client, error) {
	if cred == nil {
		return nil, errors.New("dataverse: nil credential")
	}
	u, err := url.Parse(strings.TrimRight(orgURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("dataverse: organization URL %q is not an absolute http(s) URL", orgURL)
	}
	if u.Scheme == "http" && !o.allowsHTTP(cred, u.Hostname()) {
		return nil, fmt.Errorf("dataverse: refusing to send a bearer token over http to %s (use https, or set InsecureAllowHTTP)", u.Host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	var opts ClientOptions
	if o != nil {
		opts = *o
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultClient
	}
	if opts.APIVersion == "" {
		opts.APIVersion = "v9.2"
	}
	if opts.PageSize <= 0 || opts.PageSize > MaxPageSize {
		opts.PageSize = MaxPageSize
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = defaultConcurrency
	}
	opts.MaxConcurrency = min(opts.MaxConcurrency, maxConcurrencyLimit)
	if opts.RequestsPerSecond == 0 {
		opts.RequestsPerSecond = defaultRequestsPerSecond
	}
	if opts.Burst <= 0 {
		opts.Burst = defaultBurst
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = defaultMaxRetries
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = defaultRetryDelay
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = defaultMaxRetryDelay
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = defaultMaxRetryAfter
	}
	if opts.MaxURLLength <= 0 {
		opts.MaxURLLength = defaultMaxURLLength
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	org := u.String()
	return &Client{
		org:     u,
		base:    org + "/api/data/" + opts.APIVersion + "/",
		tr:      opts.Transport,
		tokens:  &tokenCache{cred: cred, scope: Scope(org)},
		sem:     make(chan struct{}, opts.MaxConcurrency),
		limiter: newLimiter(opts.RequestsPerSecond, opts.Burst),
		opts:    opts,
		log:     opts.Logger,
	}, nil
}

func (o *ClientOptions) allowsHTTP(cred azcore.TokenCredential, host string) bool {
	if o != nil && o.InsecureAllowHTTP {
		return true
	}
	if _, static := cred.(StaticToken); static {
		return true
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Stats returns the counters of the client so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:    c.stats.requests.Load(),
		Retries:     c.stats.retries.Load(),
		Throttled:   c.stats.throttled.Load(),
		RetryWait:   time.Duration(c.stats.retryWait.Load()),
		MaxInFlight: c.stats.maxInFlight.Load(),
	}
}

// PageSize is the odata.maxpagesize the client asks for.
func (c *Client) PageSize() int { return c.opts.PageSize }

// resolve turns a link returned by the service (absolute or relative) into an
// absolute URL, refusing links to another host so the bearer token never
// leaves the environment.
func (c *Client) resolve(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("dataverse: bad link: %w", err)
	}
	if !u.IsAbs() {
		b, _ := url.Parse(c.base)
		u = b.ResolveReference(u)
	}
	if !strings.EqualFold(u.Host, c.org.Host) || u.Scheme != c.org.Scheme {
		return "", fmt.Errorf("dataverse: link to %s://%s is outside the organization %s", u.Scheme, u.Host, c.org.Host)
	}
	return u.String(), nil
}

// request describes one GET; entity and page only label errors.
type request struct {
	url    string
	prefer string
	entity string
	page   int
	// strong asks for the metadata as stored, not a server's cached copy
	// (Consistency: Strong): after a schema change the cache may lag.
	strong bool
}

func (r request) label() string {
	if r.page > 0 {
		return fmt.Sprintf("%s page %d", r.entity, r.page)
	}
	return r.entity
}

// get sends the request with retries and returns a 200 response whose body
// the caller must close (closing frees the concurrency slot).
func (c *Client) get(ctx context.Context, r request) (*http.Response, error) {
	reauthed := false
	for attempt := 0; ; attempt++ {
		if err := c.waitPause(ctx); err != nil {
			return nil, err
		}
		if err := c.limiter.wait(ctx); err != nil {
			return nil, err
		}
		release, err := c.acquire(ctx)
		if err != nil {
			return nil, err
		}
		tok, err := c.tokens.token(ctx)
		if err != nil {
			release()
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
		if err != nil {
			release()
			return nil, fmt.Errorf("dataverse: build request: %w", err)
		}
		h := req.Header
		h.Set("Authorization", "Bearer "+tok)
		h.Set("Accept", "application/json")
		h.Set("OData-MaxVersion", "4.0")
		h.Set("OData-Version", "4.0")
		h.Set("If-None-Match", "null")
		if r.prefer != "" {
			h.Set("Prefer", r.prefer)
		}
		if r.strong {
			h.Set("Consistency", "Strong")
		}
		c.stats.requests.Add(1)
		resp, err := c.tr.Do(req)
		if err != nil {
			release()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt >= c.opts.MaxRetries || c.opts.MaxRetries < 0 {
				return nil, fmt.Errorf("dataverse: %s: %w", r.label(), err)
			}
			if err := c.backoff(ctx, attempt, 0, r, err.Error()); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode == http.StatusOK {
			resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
			return resp, nil
		}
		rerr := readResponseError(resp)
		release()
		rerr.Entity, rerr.Page = r.entity, r.page
		switch {
		case resp.StatusCode == http.StatusUnauthorized && !reauthed:
			// The token may have been revoked or rotated early: ask once more.
			reauthed = true
			c.tokens.invalidate(tok)
			attempt--
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			c.stats.throttled.Add(1)
			c.pause(rerr.RetryAfter)
			if rerr.RetryAfter > c.opts.MaxRetryAfter || attempt >= c.opts.MaxRetries || c.opts.MaxRetries < 0 {
				return nil, rerr
			}
			if err := c.backoff(ctx, attempt, rerr.RetryAfter, r, rerr.Error()); err != nil {
				return nil, err
			}
			continue
		case rerr.Temporary() && !rerr.Is(ErrRebaseline) && !rerr.Is(ErrChangeTrackingDisabled):
			// A 503 may ask for an hour (maintenance): past MaxRetryAfter
			// the caller reschedules rather than sleep.
			if rerr.RetryAfter > c.opts.MaxRetryAfter || attempt >= c.opts.MaxRetries || c.opts.MaxRetries < 0 {
				return nil, rerr
			}
			if err := c.backoff(ctx, attempt, rerr.RetryAfter, r, rerr.Error()); err != nil {
				return nil, err
			}
			continue
		}
		return nil, rerr
	}
}

// pause holds back every request of the client for d: the limits are per
// user, so hammering from other goroutines would only lengthen Retry-After.
func (c *Client) pause(d time.Duration) {
	if d <= 0 || d > c.opts.MaxRetryAfter {
		return
	}
	until := time.Now().Add(d)
	c.pauseMu.Lock()
	if until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
	c.pauseMu.Unlock()
}

func (c *Client) waitPause(ctx context.Context) error {
	c.pauseMu.Lock()
	d := time.Until(c.pauseUntil)
	c.pauseMu.Unlock()
	return sleep(ctx, d)
}

// acquire takes a concurrency slot; the returned func gives it back once.
func (c *Client) acquire(ctx context.Context) (func(), error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	n := c.stats.inFlight.Add(1)
	for {
		m := c.stats.maxInFlight.Load()
		if n <= m || c.stats.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			c.stats.inFlight.Add(-1)
			<-c.sem
		})
	}, nil
}

// backoff waits before a retry: exactly Retry-After when the service gave one
// (spec §5: wait it out, then resend), else full-jitter exponential backoff.
func (c *Client) backoff(ctx context.Context, attempt int, retryAfter time.Duration, r request, reason string) error {
	d := retryAfter
	if d <= 0 {
		d = jitteredBackoff(attempt, c.opts.RetryDelay, c.opts.MaxRetryDelay)
	}
	c.stats.retries.Add(1)
	c.stats.retryWait.Add(int64(d))
	c.log.LogAttrs(ctx, slog.LevelWarn, "dataverse request retry",
		slog.String("entity", r.entity), slog.Int("page", r.page), slog.Int("attempt", attempt+1),
		slog.Duration("wait", d), slog.String("reason", reason))
	return sleep(ctx, d)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releasingBody frees the concurrency slot when the caller is done reading.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
