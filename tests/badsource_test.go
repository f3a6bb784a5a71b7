package tests

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// corrupter sits between the client and the emulator and, while armed,
// rewrites the account responses that match with fault.
type corrupter struct {
	next  http.Handler
	armed atomic.Bool
	match func(r *http.Request, body []byte) bool
	fault func(body []byte) []byte
}

func (c *corrupter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.armed.Load() || !strings.Contains(r.URL.Path, "/accounts") {
		c.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	c.next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	body := rec.Body.Bytes()
	if c.match(r, body) {
		body = c.fault(body)
	}
	_, _ = w.Write(body)
}

var deltaLinkProp = regexp.MustCompile(`,?"@odata\.deltaLink":"[^"]*"`)

// TestMalformedSourcePage makes the Web API answer a bad page in the middle
// or at the end of an initial read (23 accounts, pages of 7): the poll fails
// with a typed error naming entity and page, the position stays at the last
// good page, the other entity goes on, and once the source answers properly
// the read resumes there and the destination matches.
func TestMalformedSourcePage(t *testing.T) {
	tests := []struct {
		name     string
		match    func(r *http.Request, body []byte) bool
		fault    func(body []byte) []byte
		badPage  int
		inReason string
	}{
		{"truncated second page",
			func(r *http.Request, _ []byte) bool { return strings.Contains(r.URL.RawQuery, "skiptoken") },
			func(b []byte) []byte { return b[:len(b)/2] }, 2, ""},
		{"last page without its delta link",
			func(_ *http.Request, b []byte) bool { return deltaLinkProp.Match(b) },
			func(b []byte) []byte { return deltaLinkProp.ReplaceAll(b, nil) }, 4, "deltaLink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, err := dvemu.New(dvemu.Options{Records: 23, RandSeed: 7})
			if err != nil {
				t.Fatal(err)
			}
			c := &corrupter{next: emu, match: tt.match, fault: tt.fault}
			org := httptest.NewServer(c)
			t.Cleanup(org.Close)

			// A client of its own, pointed at the corrupting proxy.
			src, err := dataverse.NewClient(org.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{PageSize: 7})
			if err != nil {
				t.Fatal(err)
			}
			dest, _ := destinations(t)["sqlite"](t)
			e := newEnvFrom(t, dest, "", emu, map[string]string{"DATAVERSE_URL": org.URL})
			poller := dsync.NewPoller(src, e.app.Store, e.app.Store, e.app.Pool, e.app.Queue, nil)
			e.schemaChange() // the tables, before the poller reads anything

			c.armed.Store(true)
			res, err := poller.PollAll(t.Context())
			if err != nil {
				t.Fatalf("the poll itself failed: %v", err)
			}
			err = dsync.ResultsErr(res)
			var me *dataverse.MalformedError
			if !errors.As(err, &me) || !errors.Is(err, dataverse.ErrMalformed) {
				t.Fatalf("want a *MalformedError, got %v", err)
			}
			if me.Entity != "account" || me.Page != tt.badPage || !strings.Contains(err.Error(), tt.inReason) {
				t.Errorf("the error names entity %q page %d, want account page %d (%q): %v", me.Entity, me.Page, tt.badPage, tt.inReason, err)
			}
			st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
			if err != nil {
				t.Fatal(err)
			}
			if st.Pages != int64(tt.badPage-1) || st.Phase != state.PhaseInitial || !strings.Contains(st.Link, "skiptoken") {
				t.Fatalf("after the bad page: %d pages checkpointed, phase %s, link %q; want page %d's nextLink", st.Pages, st.Phase, st.Link, tt.badPage-1)
			}
			// The contact entity, read in the same poll, was not held back.
			if cst, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "contact"); err != nil || cst.Phase != state.PhaseDelta {
				t.Errorf("contact: %+v %v", cst, err)
			}

			c.armed.Store(false)
			e.sync()
			e.assertMatch("after the source recovered")
		})
	}
}
