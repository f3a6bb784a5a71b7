package dataverse_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// TestEmuBaseLanguage: the org's base language comes from the organization
// row, read once per client.
func TestEmuBaseLanguage(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 1})
	if err != nil {
		t.Fatal(err)
	}
	var orgReads atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/organizations") {
			orgReads.Add(1)
		}
		emu.ServeHTTP(w, r)
	}))
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{Transport: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		lang, err := c.BaseLanguage(context.Background())
		if err != nil || lang != dvemu.BaseLanguage {
			t.Fatalf("BaseLanguage = %d, %v; want %d", lang, err, dvemu.BaseLanguage)
		}
	}
	if n := orgReads.Load(); n != 1 {
		t.Errorf("the organization was read %d times, want once", n)
	}

	// A service without the organization row answers an error, not a guess.
	empty := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[]}`))
	}))
	c2, err := dataverse.NewClient(empty.URL, dataverse.StaticToken("t"), &dataverse.ClientOptions{Transport: empty.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if lang, err := c2.BaseLanguage(context.Background()); err == nil {
		t.Fatalf("BaseLanguage = %d without an organization row", lang)
	}
}
