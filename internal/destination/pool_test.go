package destination

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// fakeSink records whether it was closed.
type fakeSink struct {
	conn   string
	once   gosync.Once
	closed chan struct{}
}

func (f *fakeSink) EnsureTable(context.Context, schema.Table) error { return nil }
func (f *fakeSink) Apply(context.Context, schema.TableName, record.Batch) (sink.Result, error) {
	return sink.Result{}, nil
}
func (f *fakeSink) Close() error { f.once.Do(func() { close(f.closed) }); return nil }

func (f *fakeSink) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

// fakeDial opens fakeSinks, counting opens per connection string. With
// gate set, an open waits for it (or its context) first.
type fakeDial struct {
	mu      gosync.Mutex
	calls   map[string]int
	opened  []*fakeSink
	fail    map[string]error
	gate    chan struct{}
	started chan string
}

func newFakeDial() *fakeDial {
	return &fakeDial{calls: map[string]int{}, fail: map[string]error{}, started: make(chan string, 100)}
}

func (d *fakeDial) dial(ctx context.Context, typ, conn string, o *sink.Options) (sink.Sink, error) {
	d.mu.Lock()
	d.calls[conn]++
	err, gate := d.fail[conn], d.gate
	d.mu.Unlock()
	d.started <- conn
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	s := &fakeSink{conn: conn, closed: make(chan struct{})}
	d.mu.Lock()
	d.opened = append(d.opened, s)
	d.mu.Unlock()
	return s, nil
}

func (d *fakeDial) count(conn string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[conn]
}

type fakeClock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFakePool(t *testing.T, o Options, d *fakeDial) *Pool {
	t.Helper()
	pl := New(&o)
	pl.dial = d.dial
	t.Cleanup(func() { pl.Close() })
	return pl
}

func prof(name, conn string) profile.Profile {
	return profile.Profile{Name: name, Entities: []string{"account"}, Destination: profile.Destination{Type: profile.Postgres, Connection: conn}}
}

// await fails the test unless ch yields within a generous bound; the bound
// only keeps a broken build from hanging.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

type result struct {
	s   sink.Sink
	err error
	at  time.Duration
}

// A destination that accepts connections and never answers must hold up
// neither other profiles nor callers whose own context ends.
func TestPoolSlowOpenBlocksNoOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 10)
	var conns []net.Conn
	var connsMu gosync.Mutex
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
			accepted <- struct{}{}
		}
	}()
	slow := profile.Profile{Name: "slow", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.Postgres, Connection: "postgres://u:p@" + ln.Addr().String() + "/db"}}
	fast := profile.Profile{Name: "fast", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.SQLite, Connection: filepath.Join(t.TempDir(), "f.db")}}
	pl := NewPool(nil)

	first := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := pl.Sink(ctx, slow)
		first <- result{s: s, err: err}
	}()
	await(t, accepted, "the slow open to connect")

	tests := []struct {
		name     string
		p        profile.Profile
		deadline time.Duration
		wantErr  error
	}{
		{"another profile opens at once", fast, 5 * time.Second, nil},
		{"a caller of the slow one gives up at its own deadline", slow, 200 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tc.deadline)
			defer cancel()
			start := time.Now()
			s, err := pl.Sink(ctx, tc.p)
			took := time.Since(start)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if took > tc.deadline+time.Second {
				t.Errorf("took %v, past its own deadline %v", took, tc.deadline)
			}
			if err != nil {
				for _, want := range []string{"profile " + tc.p.Name, tc.p.Destination.Type} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
				}
				return
			}
			if err := s.EnsureTable(ctx, schema.Table{TableName: schema.TableName{Schema: "main", Name: "account"}, Entity: "account"}); err != nil {
				t.Errorf("the sink does not work: %v", err)
			}
		})
	}

	// Close ends the open in flight rather than wait for it.
	start := time.Now()
	if err := pl.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("close took %v", took)
	}
	if r := await(t, first, "the first caller"); !errors.Is(r.err, ErrClosed) {
		t.Errorf("first caller after Close: %v, want ErrClosed", r.err)
	}
}

// Concurrent callers of one version share one open.
func TestPoolOpensOncePerVersion(t *testing.T) {
	d := newFakeDial()
	d.gate = make(chan struct{})
	pl := newFakePool(t, Options{}, d)
	const n = 8
	results := make(chan result, n)
	for range n {
		go func() {
			s, err := pl.Sink(t.Context(), prof("p", "c1"))
			results <- result{s: s, err: err}
		}()
	}
	await(t, d.started, "the open")
	close(d.gate)
	var first sink.Sink
	for range n {
		r := await(t, results, "a caller")
		if r.err != nil {
			t.Fatal(r.err)
		}
		if first == nil {
			first = r.s
		}
		if r.s != first {
			t.Error("callers got different sinks")
		}
	}
	if c := d.count("c1"); c != 1 {
		t.Errorf("%d opens, want 1", c)
	}
}

// A caller whose context is cancelled stops waiting; the open goes on for
// the others and its sink is kept.
func TestPoolWaiterCancelled(t *testing.T) {
	d := newFakeDial()
	d.gate = make(chan struct{})
	pl := newFakePool(t, Options{}, d)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() {
		s, err := pl.Sink(ctx, prof("p", "c1"))
		done <- result{s: s, err: err}
	}()
	await(t, d.started, "the open")
	cancel()
	if r := await(t, done, "the cancelled caller"); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", r.err)
	}
	close(d.gate)
	if _, err := pl.Sink(t.Context(), prof("p", "c1")); err != nil {
		t.Fatal(err)
	}
	if c := d.count("c1"); c != 1 {
		t.Errorf("%d opens, want 1: the first open's sink was not kept", c)
	}
}

func TestPoolRemembersFailures(t *testing.T) {
	errRefused := errors.New("connection refused")
	type step struct {
		after     time.Duration
		conn      string
		wantOpens int // opens of conn so far
		wantErr   bool
	}
	tests := []struct {
		name  string
		ttl   time.Duration
		steps []step
	}{
		{"a failure is returned again without an open until it expires", 0, []step{
			{0, "bad", 1, true},
			{time.Second, "bad", 1, true},
			{DefaultFailureTTL - 2*time.Second, "bad", 1, true},
			{time.Second, "bad", 2, true},
		}},
		{"another connection of the profile is not held back", 0, []step{
			{0, "bad", 1, true},
			{0, "good", 1, false},
			{0, "bad", 1, true},
		}},
		{"configured TTL", 3 * time.Second, []step{
			{0, "bad", 1, true},
			{2 * time.Second, "bad", 1, true},
			{time.Second, "bad", 2, true},
		}},
		{"negative TTL: every call tries", -1, []step{
			{0, "bad", 1, true},
			{0, "bad", 2, true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDial()
			d.fail["bad"] = errRefused
			clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			pl := newFakePool(t, Options{FailureTTL: tc.ttl, Now: clock.Now}, d)
			for i, st := range tc.steps {
				clock.Add(st.after)
				_, err := pl.Sink(t.Context(), prof("p", st.conn))
				if (err != nil) != st.wantErr {
					t.Fatalf("step %d: error %v, want error %t", i, err, st.wantErr)
				}
				if got := d.count(st.conn); got != st.wantOpens {
					t.Fatalf("step %d: %d opens of %s, want %d", i, got, st.conn, st.wantOpens)
				}
				if err == nil {
					continue
				}
				if !errors.Is(err, errRefused) {
					t.Errorf("step %d: errors.Is(err, cause) = false: %v", i, err)
				}
				if !strings.Contains(err.Error(), "profile p: opening postgres destination") {
					t.Errorf("step %d: error does not name the profile and type: %v", i, err)
				}
			}
		})
	}
}

// The poller and the applier may hold different versions of a profile
// (the applier's is cached); each keeps a working sink.
func TestPoolVersionsCoexist(t *testing.T) {
	dir := t.TempDir()
	old := profile.Profile{Name: "p", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.SQLite, Connection: filepath.Join(dir, "old.db")}}
	nu := old
	nu.Destination.Connection = filepath.Join(dir, "new.db")
	pl := NewPool(nil)
	t.Cleanup(func() { pl.Close() })
	ctx := t.Context()
	table := schema.Table{TableName: schema.TableName{Schema: "main", Name: "account"}, Entity: "account", Columns: []schema.Column{{Name: "name", Type: schema.StringType(100)}}}
	batch := record.Batch{Entity: "account", Columns: []record.Column{{Name: "name", Kind: record.String}},
		Upserts: []record.Record{{ID: "00000001-0000-4000-8000-000000000000", Version: 1, Values: []record.Value{record.StringValue("x")}}}}
	// Alternate as an applier with a stale profile and a poller with a
	// fresh one do; each apply runs on a sink obtained before the other
	// version was asked for.
	for i, p := range []profile.Profile{old, nu, old, nu} {
		s, err := pl.Sink(ctx, p)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if err := s.EnsureTable(ctx, table); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		other := nu
		if p.Destination.Connection == nu.Destination.Connection {
			other = old
		}
		if _, err := pl.Sink(ctx, other); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if _, err := s.Apply(ctx, table.TableName, batch); err != nil {
			t.Fatalf("step %d: apply on a sink held while the other version was opened: %v", i, err)
		}
	}
}

func TestPoolClosesIdleSupersededVersions(t *testing.T) {
	const idle = 10 * time.Minute
	type step struct {
		after    time.Duration
		name     string // profile
		conn     string // its version
		wantOpen bool   // a new open happens
	}
	tests := []struct {
		name   string
		idle   time.Duration
		steps  []step
		closed []string // first sinks of these versions are closed before Close
	}{
		{"an idle superseded version is closed and reopened on demand", idle, []step{
			{0, "p", "A", true},
			{time.Minute, "p", "B", true},
			{idle, "p", "B", false},
			{0, "p", "A", true},
		}, []string{"A"}},
		{"a superseded version handed out recently is kept", idle, []step{
			{0, "p", "A", true},
			{time.Minute, "p", "B", true},
			{8 * time.Minute, "p", "A", false},
			{time.Minute, "p", "B", false},
			{8 * time.Minute, "q", "other", true},
			{0, "p", "A", false},
		}, nil},
		{"the current version is never closed for idleness", idle, []step{
			{0, "p", "A", true},
			{time.Hour, "q", "other", true},
			{0, "p", "A", false},
		}, nil},
		{"negative idle keeps superseded versions until Close", -1, []step{
			{0, "p", "A", true},
			{time.Minute, "p", "B", true},
			{time.Hour, "p", "B", false},
			{0, "p", "A", false},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDial()
			clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			pl := New(&Options{SupersededIdle: tc.idle, Now: clock.Now})
			pl.dial = d.dial
			for i, st := range tc.steps {
				clock.Add(st.after)
				before := d.count(st.conn)
				s, err := pl.Sink(t.Context(), prof(st.name, st.conn))
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if opened := d.count(st.conn) > before; opened != st.wantOpen {
					t.Fatalf("step %d: new open %t, want %t", i, opened, st.wantOpen)
				}
				if s.(*fakeSink).isClosed() {
					t.Fatalf("step %d: handed out a closed sink", i)
				}
			}
			d.mu.Lock()
			opened := append([]*fakeSink(nil), d.opened...)
			d.mu.Unlock()
			firsts := map[string]*fakeSink{}
			for _, s := range opened {
				if firsts[s.conn] == nil {
					firsts[s.conn] = s
				}
			}
			for _, c := range tc.closed {
				await(t, firsts[c].closed, "closing superseded "+c)
			}
			if err := pl.Close(); err != nil {
				t.Fatal(err)
			}
			for _, s := range opened {
				if !s.isClosed() {
					t.Errorf("sink of %s left open by Close", s.conn)
				}
			}
		})
	}
}

func TestPoolClosed(t *testing.T) {
	d := newFakeDial()
	pl := newFakePool(t, Options{}, d)
	s, err := pl.Sink(t.Context(), prof("p", "c1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if !s.(*fakeSink).isClosed() {
		t.Error("Close left a sink open")
	}
	if _, err := pl.Sink(t.Context(), prof("p", "c1")); !errors.Is(err, ErrClosed) {
		t.Errorf("Sink after Close: %v, want ErrClosed", err)
	}
	if c := d.count("c1"); c != 1 {
		t.Errorf("%d opens, want 1", c)
	}
}

func TestKeyOf(t *testing.T) {
	base := profile.Profile{Name: "p", Entities: []string{"account"}, Schema: "s", Prefix: "x", Destination: profile.Destination{Type: profile.Postgres, Connection: "c"}}
	tests := []struct {
		name string
		edit func(*profile.Profile)
		same bool
	}{
		{"name", func(p *profile.Profile) { p.Name = "q" }, false},
		{"type", func(p *profile.Profile) { p.Destination.Type = profile.SQLServer }, false},
		{"connection", func(p *profile.Profile) { p.Destination.Connection = "d" }, false},
		{"schema", func(p *profile.Profile) { p.Schema = "t" }, false},
		{"prefix", func(p *profile.Profile) { p.Prefix = "y" }, false},
		{"delete log", func(p *profile.Profile) { p.WriteDeleteLog = true }, false},
		{"fields cannot run into each other", func(p *profile.Profile) { p.Schema, p.Prefix = "sx", "" }, false},
		{"entities do not define the sink", func(p *profile.Profile) { p.Entities = []string{"contact"} }, true},
		{"retries do not define the sink", func(p *profile.Profile) { n := 3; p.RetryCount = &n }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			tc.edit(&p)
			if got := keyOf(p) == keyOf(base); got != tc.same {
				t.Errorf("same key %t, want %t", got, tc.same)
			}
		})
	}
}
