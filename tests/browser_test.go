package tests

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser the UI tests drive: DATAEXPORT_CHROMIUM,
// else Debian's chromium. A machine without one fails the tests with the
// way to get it (.ci/run installs it); it never skips them.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DATAEXPORT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed, and the web UI tests need it: apt-get install -y chromium (.ci/run does), or set DATAEXPORT_CHROMIUM to a Chrome or Chromium binary")
	return ""
}

// browser is a headless Chromium tab on one server. It lets the page fetch
// from that server only: every other request is failed and kept, as are
// script exceptions and console errors (a Content-Security-Policy
// violation is one).
type browser struct {
	t      *testing.T
	ctx    context.Context
	origin string

	mu        gosync.Mutex
	requests  []string // every URL the page asked for
	outside   []string // those not on origin (failed)
	problems  []string // exceptions and console errors
	shotsDir  string
	shotNames []string
}

func newBrowser(t *testing.T, origin string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, origin: strings.TrimSuffix(origin, "/"), shotsDir: screenshotDir(t)}
	if err := chromedp.Listen(ctx, b.event); err != nil {
		t.Fatal(err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			b.decide(ev)
		}
	}()
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}})
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, runtime.Enable, cdp.Empty{})
			return err
		}),
	); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	// The interception must be able to fail: a page without a policy
	// (about:blank) asks for an address elsewhere, and the request must be
	// seen and refused.
	b.do("the interception check", chromedp.Navigate("about:blank"))
	eval[any](b, `fetch('http://192.0.2.1:9/probe').catch(() => null)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		seen := len(b.outside) == 1 && b.outside[0] == "http://192.0.2.1:9/probe"
		if seen {
			b.outside, b.requests = nil, nil
		}
		b.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a request to another host was not intercepted: the check that the UI fetches nothing from elsewhere would not work")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b
}

// decide lets a request of the origin through and fails any other.
func (b *browser) decide(ev fetch.EventRequestPaused) {
	u := ev.Request.URL
	b.mu.Lock()
	b.requests = append(b.requests, u)
	ok := u == b.origin || strings.HasPrefix(u, b.origin+"/")
	if !ok {
		b.outside = append(b.outside, u)
	}
	b.mu.Unlock()
	tg := chromedp.FromContext(b.ctx).Target
	if ok {
		_, _ = cdp.Call(b.ctx, tg, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
	} else {
		_, _ = cdp.Call(b.ctx, tg, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
	}
}

func (b *browser) event(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, "exception: "+msg)
	case *cdplog.EventEntryAdded:
		// HTTP errors are the API's answers the page shows (401, 422):
		// they are asserted where they matter. Anything else at error
		// level (a CSP violation, a script error) is a defect.
		if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
			b.problems = append(b.problems, fmt.Sprintf("console %s: %s", e.Entry.Source, e.Entry.Text))
		}
	}
}

// do runs actions, failing the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail("%s: %v", what, err)
	}
}

// eval runs an expression in the page.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.fail("evaluating %s: %v", js, err)
	}
	return v
}

// await polls a JavaScript condition until it holds.
func (b *browser) await(what, js string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.fail("timed out after %s waiting for %s (%s; last error %v)", timeout, what, js, err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// text is the text of the first element a CSS selector matches ("" when none).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel))
}

// typeInto focuses a field, clears it and types v as a user would.
func (b *browser) typeInto(sel, v string) {
	b.t.Helper()
	b.do("typing into "+sel, chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](fmt.Sprintf(`document.querySelector(%q).select()`, sel))(ctx, tg)
			return err
		}),
		chromedp.KeyEvent("\b"), chromedp.SendKeys(chromedp.CSS(sel), v))
}

// choose picks an option of a select, as the keyboard or mouse would (the
// change fires).
func (b *browser) choose(sel, value string) {
	b.t.Helper()
	eval[any](b, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.focus(); s.value = %q; s.dispatchEvent(new Event('input', {bubbles: true})); s.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, value))
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("clicking "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// screenshot writes the page as a PNG under tests/artifacts/ui/ (not
// committed; README.md links them).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.shotsDir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.fail("%v", err)
	}
	b.shotNames = append(b.shotNames, p)
}

func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	b.mu.Lock()
	probs := append([]string(nil), b.problems...)
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		p := filepath.Join(b.shotsDir, "failure-"+strings.ReplaceAll(b.t.Name(), "/", "-")+".png")
		if os.WriteFile(p, png, 0o644) == nil {
			args = append(args, p)
			format += " (page: %s)"
		}
	}
	if body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('banner')||{}).innerText||""`)); err == nil && body != "" {
		format += "\nbanner: %s"
		args = append(args, body)
	}
	if len(probs) > 0 {
		format += "\npage problems: %s"
		args = append(args, strings.Join(probs, "; "))
	}
	b.t.Fatalf(format, args...)
}

// checkClean fails on any request outside the server and any script error
// or console error the page had.
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		b.t.Fatal("no request was seen: the interception is not working")
	}
	if len(b.outside) > 0 {
		b.t.Errorf("the page fetched from outside %s: %v", b.origin, b.outside)
	}
	for _, r := range b.requests {
		u, err := url.Parse(r)
		if err != nil || u.Scheme+"://"+u.Host != b.origin {
			b.t.Errorf("request %s is not to %s", r, b.origin)
		}
	}
	if len(b.problems) > 0 {
		b.t.Errorf("the page had errors: %s", strings.Join(b.problems, "; "))
	}
}

// screenshotDir is where the tests leave their screenshots: tests/artifacts/ui
// (git ignores it), or UI_SCREENSHOTS.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("UI_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "tests", "artifacts", "ui")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
