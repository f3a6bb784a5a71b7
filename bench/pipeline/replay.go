package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// replay stands between the runner and the emulator when the source is
// "replay": the pages of initial reads (GET of an entity set without a
// delta token) are recorded to files as the first baseline pass reads
// them, and served from those files to every later reader of the same URL
// and Prefer header, the pipeline included. Everything else (metadata,
// delta reads, the delta phases' writes) goes to the emulator.
//
// Why: on this 2-core machine the emulator renders a 5,000-row page in
// about 150 ms of CPU, as much as the rest of the pipeline spends on it,
// and takes that CPU from the runner and the database. In Azure the source
// is Dataverse, on Microsoft's servers. Replaying its answers measures what
// the pipeline itself costs; live measures this machine as a whole.
type replay struct {
	target *url.URL
	proxy  *httputil.ReverseProxy
	dir    string
	ln     net.Listener
	srv    *http.Server

	mu       sync.Mutex
	pages    map[string]recorded
	frozen   bool // recording ended: misses go live
	hits     atomic.Int64
	misses   atomic.Int64
	recorded atomic.Int64
}

type recorded struct {
	file   string
	header http.Header
}

func startReplay(emulator, dir string) (*replay, error) {
	target, err := url.Parse(emulator)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &replay{target: target, dir: dir, ln: ln, pages: map[string]recorded{}}
	r.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // links in the answers name the proxy
	}}
	r.srv = &http.Server{Handler: r}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *replay) url() string { return "http://" + r.ln.Addr().String() }

// freeze ends recording: from now on a page not recorded is served live.
func (r *replay) freeze() {
	r.mu.Lock()
	r.frozen = true
	r.mu.Unlock()
}

func (r *replay) close() {
	r.srv.Close()
	os.RemoveAll(r.dir) // the pages are large: gigabytes at 1,000,000 rows
}

func (r *replay) summary() string {
	return fmt.Sprintf("%d initial-read pages recorded, %d requests served from them, %d forwarded", r.recorded.Load(), r.hits.Load(), r.misses.Load())
}

// replayable is a GET of an initial read's page: an entity set under the
// Web API path, no delta token.
func replayable(req *http.Request) bool {
	if req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/api/data/") {
		return false
	}
	last := req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]
	if last == "" || strings.ContainsAny(last, "()$") || strings.HasPrefix(last, "EntityDefinitions") || strings.HasPrefix(last, "RelationshipDefinitions") || strings.HasPrefix(last, "GlobalOptionSetDefinitions") {
		return false
	}
	return !req.URL.Query().Has("$deltatoken")
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !replayable(req) {
		r.misses.Add(1)
		r.proxy.ServeHTTP(w, req)
		return
	}
	key := replayKey(req)
	r.mu.Lock()
	rec, ok := r.pages[key]
	frozen := r.frozen
	r.mu.Unlock()
	if ok {
		f, err := os.Open(rec.file)
		if err == nil {
			defer f.Close()
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			r.hits.Add(1)
			w.WriteHeader(http.StatusOK)
			io.Copy(w, f)
			return
		}
	}
	if frozen {
		r.misses.Add(1)
		r.proxy.ServeHTTP(w, req)
		return
	}
	r.record(w, req, key)
}

// replayKey names what a page's answer depends on: the path, the query
// with its $select list in sorted order (the same columns, whatever order
// the metadata listed them in), Prefer and Authorization.
func replayKey(req *http.Request) string {
	q := req.URL.Query()
	if sel := q.Get("$select"); sel != "" {
		cols := strings.Split(sel, ",")
		slices.Sort(cols)
		q.Set("$select", strings.Join(cols, ","))
	}
	return req.URL.Path + "?" + q.Encode() + "\x00" + req.Header.Get("Prefer") + "\x00" + req.Header.Get("Authorization")
}

// record forwards the request and, when the answer is a 200, writes its
// body to a file as it streams to the client.
func (r *replay) record(w http.ResponseWriter, req *http.Request, key string) {
	out, err := http.NewRequestWithContext(req.Context(), req.Method, r.target.Scheme+"://"+r.target.Host+req.URL.RequestURI(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	out.Host = req.Host
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if resp.StatusCode != http.StatusOK {
		r.misses.Add(1)
		io.Copy(w, resp.Body)
		return
	}
	file := filepath.Join(r.dir, strconv.FormatInt(r.recorded.Add(1), 10)+".json")
	f, err := os.Create(file)
	if err != nil {
		io.Copy(w, resp.Body)
		return
	}
	_, cerr := io.Copy(io.MultiWriter(w, f), resp.Body)
	if err := f.Close(); cerr == nil && err == nil {
		h := resp.Header.Clone()
		h.Del("Content-Length")
		h.Del("Date")
		r.mu.Lock()
		r.pages[key] = recorded{file: file, header: h}
		r.mu.Unlock()
	}
}
