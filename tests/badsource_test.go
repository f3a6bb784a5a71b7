package tests

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// corrupter sits between the client and the emulator and, while armed,
// cuts every response to the second page of account reads in half.
type corrupter struct {
	next  http.Handler
	armed atomic.Bool
}

func (c *corrupter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.armed.Load() || !strings.Contains(r.URL.Path, "/accounts") || !strings.Contains(r.URL.RawQuery, "skiptoken") {
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
	_, _ = w.Write(body[:len(body)/2])
}

// TestMalformedSourcePage makes the Web API answer a truncated page in the
// middle of an initial read: the poll fails with a typed error naming entity
// and page, the position stays at the last good page, and once the source
// answers properly the read resumes there and the destination matches.
func TestMalformedSourcePage(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 23, RandSeed: 7})
	if err != nil {
		t.Fatal(err)
	}
	c := &corrupter{next: emu}
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

	c.armed.Store(true)
	_, err = poller.PollAll(t.Context())
	var me *dataverse.MalformedError
	if !errors.As(err, &me) || !errors.Is(err, dataverse.ErrMalformed) {
		t.Fatalf("want a *MalformedError, got %v", err)
	}
	if me.Entity != "account" || me.Page != 2 {
		t.Errorf("the error names entity %q page %d, want account page 2: %v", me.Entity, me.Page, err)
	}
	st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
	if err != nil {
		t.Fatal(err)
	}
	if st.Pages != 1 || st.Phase != dsync.PhaseInitial || !strings.Contains(st.Link, "skiptoken") {
		t.Fatalf("after the bad page: %d pages checkpointed, phase %s, link %q; want page 1's nextLink", st.Pages, st.Phase, st.Link)
	}
	// The contact entity, read in the same poll, was not held back.
	if cst, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "contact"); err != nil || cst.Phase != dsync.PhaseDelta {
		t.Errorf("contact: %+v %v", cst, err)
	}

	c.armed.Store(false)
	e.sync()
	e.assertMatch("after the source recovered")
}
