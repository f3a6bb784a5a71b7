package tests

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dataexport/dataexport/internal/dvemu"
)

// TestRowsWithoutVersionNumber replicates from a source whose rows carry the
// version only in @odata.etag (W/"915244"), as Microsoft's change-tracking
// examples show them: the initial read, then inserts, updates and deletes,
// arrive with the etag's number as their version.
func TestRowsWithoutVersionNumber(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			emu, err := dvemu.New(dvemu.Options{Records: 23, RandSeed: 7, OmitVersionNumber: true})
			if err != nil {
				t.Fatal(err)
			}
			assertNoVersionNumber(t, emu)
			e := newEnvFrom(t, dest, schemaName, emu, nil)
			e.sync()
			e.assertMatch("after the initial sync")
			e.mutate()
			e.sync()
			e.assertMatch("after inserts, updates and deletes")
		})
	}
}

// assertNoVersionNumber checks that the source really leaves versionnumber
// out of rows that select it, so the test cannot pass on versionnumber.
func assertNoVersionNumber(t *testing.T, emu *dvemu.Emulator) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/data/v9.2/accounts?$select=name,versionnumber", nil)
	req.Header.Set("Authorization", "Bearer "+dvemu.DefaultToken)
	req.Header.Set("Prefer", "odata.track-changes,odata.maxpagesize=3")
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	var page struct{ Value []map[string]any }
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != http.StatusOK || len(page.Value) == 0 {
		t.Fatalf("source read: %d %v %s", rec.Code, err, rec.Body)
	}
	for _, row := range page.Value {
		if _, has := row["versionnumber"]; has {
			t.Fatalf("the source sent versionnumber: %v", row)
		}
		if _, has := row["@odata.etag"]; !has {
			t.Fatalf("the source sent no etag: %v", row)
		}
	}
}
