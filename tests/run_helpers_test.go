package tests

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/azuritetest"
)

// The built binary, once per test run.
var (
	binOnce gosync.Once
	binPath string
	binErr  error
)

// dataexportBinary builds cmd/dataexport into a temporary folder.
func dataexportBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dataexport-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "dataexport")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/dataexport").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// storageTap stands between the app and Azurite: three reverse proxies (blob,
// queue, table) that keep every request and response body, so a test can
// read everything the app wrote to and read from storage.
type storageTap struct {
	mu      gosync.Mutex
	traffic bytes.Buffer
	counts  map[string]int // "queue PUT message", "table write", "blob write"
	urls    map[string]string
}

var messageText = regexp.MustCompile(`<MessageText>([^<]*)</MessageText>`)

func newStorageTap(t *testing.T) *storageTap {
	t.Helper()
	tap := &storageTap{counts: map[string]int{}, urls: map[string]string{}}
	for service, port := range map[string]string{"blob": "10000", "queue": "10001", "table": "10002"} {
		target, _ := url.Parse("http://127.0.0.1:" + port)
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ModifyResponse = func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			tap.record(service, "response", resp.Request.Method, b)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			return nil
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			tap.record(service, "request", r.Method, b)
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		tap.urls[service] = srv.URL
	}
	return tap
}

func (tap *storageTap) record(service, dir, method string, b []byte) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	tap.traffic.Write(b)
	tap.traffic.WriteByte('\n')
	// Queue messages travel base64-encoded: keep their text too.
	for _, m := range messageText.FindAllSubmatch(b, -1) {
		if d, err := base64.StdEncoding.DecodeString(string(m[1])); err == nil {
			tap.traffic.Write(d)
			tap.traffic.WriteByte('\n')
			if dir == "request" {
				tap.counts["queue message sent"]++
			}
		}
	}
	if dir == "request" && len(b) > 0 && (method == http.MethodPut || method == http.MethodPost || method == http.MethodPatch || method == "MERGE") {
		tap.counts[service+" write"]++
	}
}

// Connection is the storage connection string through the tap.
func (tap *storageTap) Connection() string {
	return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
		"BlobEndpoint=" + tap.urls["blob"] + "/devstoreaccount1;QueueEndpoint=" + tap.urls["queue"] + "/devstoreaccount1;TableEndpoint=" + tap.urls["table"] + "/devstoreaccount1;"
}

func (tap *storageTap) text() string {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.traffic.String()
}

func (tap *storageTap) count(what string) int {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.counts[what]
}

// liveRun is a `dataexport run` process and a client of its API.
type liveRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *syncWriter
	outBuf *bytes.Buffer
	API    string // http://127.0.0.1:<port>/api
	Key    string
	env    []string
	dir    string

	mu        gosync.Mutex
	responses bytes.Buffer  // every answer the API gave, headers and bodies
	stopped   chan struct{} // closed when the process has exited
}

// stop ends the process as Ctrl-C does (it writes what it holds, such as
// the minute of metrics in progress) and waits for it.
func (r *liveRun) stop() {
	r.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-r.stopped:
	case <-time.After(20 * time.Second):
		r.t.Fatal("dataexport run did not stop within 20 s of SIGINT")
	}
}

var listening = regexp.MustCompile(`msg="management API listening" url=(\S+)`)

// startRun starts `dataexport run` in dir with the settings in env (and no
// settings file), and waits for its API.
func startRun(t *testing.T, dir string, env map[string]string) *liveRun {
	t.Helper()
	bin := dataexportBinary(t)
	root := repoRoot(t)
	r := &liveRun{t: t, outBuf: &bytes.Buffer{}, Key: env["ADMIN_API_KEY"], dir: dir}
	r.out = &syncWriter{buf: r.outBuf}
	r.env = append(os.Environ(), "HOST_JSON="+filepath.Join(root, "host.json"))
	for k, v := range env {
		r.env = append(r.env, k+"="+v)
	}
	r.cmd = exec.Command(bin, "run", "--settings", filepath.Join(dir, "no-settings.json"),
		"--functions", filepath.Join(root, "functions"), "--host", filepath.Join(root, "host.json"), "--api-addr", "127.0.0.1:0")
	r.cmd.Dir, r.cmd.Env = dir, r.env
	pr, pw := io.Pipe()
	r.cmd.Stdout, r.cmd.Stderr = io.MultiWriter(r.out, pw), io.MultiWriter(r.out, pw)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	r.stopped = make(chan struct{})
	go func() { exited <- r.cmd.Wait(); pw.Close(); close(r.stopped) }()
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGINT)
		// r.stopped, not exited: the start-up wait below may have taken
		// exited's only value.
		select {
		case <-r.stopped:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.stopped
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- strings.TrimSuffix(m[1], "/"):
				default:
				}
			}
		}
	}()
	select {
	case api := <-found:
		r.API = api
	case err := <-exited:
		t.Fatalf("dataexport run exited: %v\n%s", err, r.outBuf.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("dataexport run did not start its API:\n%s", r.logs())
	}
	return r
}

func (r *liveRun) logs() string {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	return r.outBuf.String()
}

// call sends one API request with the admin key; headers may add or
// (with an empty value) remove headers.
func (r *liveRun) call(method, path, body string, headers map[string]string) (int, http.Header, []byte) {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.API+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("x-functions-key", r.Key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r.mu.Lock()
	fmt.Fprintf(&r.responses, "%s %s %d %v\n%s\n", method, path, resp.StatusCode, resp.Header, b)
	r.mu.Unlock()
	return resp.StatusCode, resp.Header, b
}

// json calls and decodes the answer into v, failing unless the status is want.
func (r *liveRun) json(method, path, body string, headers map[string]string, want int, v any) http.Header {
	r.t.Helper()
	status, h, b := r.call(method, path, body, headers)
	if status != want {
		r.t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return h
}

func (r *liveRun) answers() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.responses.String()
}

// cli runs `dataexport profile ...` with the run's settings.
func (r *liveRun) cli(args ...string) (string, error) {
	r.t.Helper()
	cmd := exec.Command(dataexportBinary(r.t), append([]string{"profile"}, append(args, "--settings", filepath.Join(r.dir, "no-settings.json"))...)...)
	cmd.Dir, cmd.Env = r.dir, r.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// await polls cond until it holds or the deadline passes.
func await(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// uniqueSuffix names this test's storage.
func uniqueSuffix() string { return strings.ToLower(azuritetest.UniqueName("")) }
