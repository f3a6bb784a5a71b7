package tests

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/profile"
)

// TestLabelViews: the account_labels view shows industrycode_label and
// statecode_label as the emulator labels the values (its FormattedValue
// annotations), and a relabelled option shows its new label once the
// poller has read the changed metadata.
func TestLabelViews(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			e := newEnv(t, dest, schemaName)
			e.view = "account_labels"
			if name == "postgres" {
				// Named by the profile.
				e.prof.LabelViews = &profile.LabelViews{Name: "lbl_{table}"}
				e.check(e.app.Store.PutProfile(t.Context(), e.prof))
				e.view = "lbl_account"
			}
			e.sync()
			used := e.checkLabels("after the initial sync")

			// Relabel an option some account holds.
			var value int64
			for v := range used {
				value = v
				break
			}
			relabelled := fmt.Sprintf("Relabelled %d", value)
			e.check(e.emu.RelabelOption("account", "industrycode", int(value), relabelled))
			e.sync()
			after := e.checkLabels("after the relabel")
			if after[value] != relabelled {
				t.Fatalf("industrycode %d shows %q after the relabel, want %q", value, after[value], relabelled)
			}
		})
	}
}

// checkLabels compares the labels of the account label view (e.view) with the emulator's
// FormattedValue of each row and returns the industrycode labels seen.
func (e *env) checkLabels(stage string) map[int64]string {
	e.t.Helper()
	want := e.formattedValues("accounts", "accountid", "industrycode", "statecode")
	type row struct {
		id                string
		industry, state   sql.NullInt64
		industryL, stateL sql.NullString
	}
	var rows []row
	q := "SELECT accountid, industrycode, industrycode_label, statecode, statecode_label FROM %s"
	switch e.prof.Destination.Type {
	case profile.SQLite:
		db, err := sql.Open("sqlite", e.prof.Destination.Connection)
		e.check(err)
		defer db.Close()
		rs, err := db.QueryContext(e.t.Context(), fmt.Sprintf(q, e.view))
		e.check(err)
		for rs.Next() {
			var r row
			e.check(rs.Scan(&r.id, &r.industry, &r.industryL, &r.state, &r.stateL))
			rows = append(rows, r)
		}
		e.check(rs.Err())
	case profile.Postgres:
		conn, err := pgx.Connect(e.t.Context(), pgURL)
		e.check(err)
		defer conn.Close(context.Background())
		rs, err := conn.Query(e.t.Context(), fmt.Sprintf(q, e.prof.SchemaOrDefault()+"."+e.view))
		e.check(err)
		for rs.Next() {
			var r row
			e.check(rs.Scan(&r.id, &r.industry, &r.industryL, &r.state, &r.stateL))
			rows = append(rows, r)
		}
		e.check(rs.Err())
	}
	if len(rows) != len(want) || len(rows) == 0 {
		e.t.Fatalf("%s: %d rows in account_labels, %d accounts in the emulator", stage, len(rows), len(want))
	}
	seen := map[int64]string{}
	for _, r := range rows {
		w, ok := want[r.id]
		if !ok {
			e.t.Fatalf("%s: account %s is not in the emulator", stage, r.id)
		}
		for _, c := range []struct {
			name  string
			value sql.NullInt64
			label sql.NullString
		}{{"industrycode", r.industry, r.industryL}, {"statecode", r.state, r.stateL}} {
			if !c.value.Valid {
				if c.label.Valid {
					e.t.Errorf("%s: account %s: %s is null, its label %q", stage, r.id, c.name, c.label.String)
				}
				continue
			}
			if got, want := c.label.String, w[c.name]; !c.label.Valid || got != want {
				e.t.Errorf("%s: account %s: %s %d labelled %q (valid %t), the emulator says %q", stage, r.id, c.name, c.value.Int64, got, c.label.Valid, want)
			}
			if c.name == "industrycode" {
				seen[c.value.Int64] = c.label.String
			}
		}
	}
	if len(seen) == 0 {
		e.t.Fatalf("%s: no account has an industrycode", stage)
	}
	return seen
}

// formattedValues reads every row of an entity set from the emulator's Web
// API with its FormattedValue annotations: id -> column -> label.
func (e *env) formattedValues(set, idName string, cols ...string) map[string]map[string]string {
	e.t.Helper()
	out := map[string]map[string]string{}
	url := e.settings.Get("DATAVERSE_URL") + "/api/data/v9.2/" + set + "?$select=" + strings.Join(cols, ",")
	for url != "" {
		req, err := http.NewRequestWithContext(e.t.Context(), http.MethodGet, url, nil)
		e.check(err)
		req.Header.Set("Authorization", "Bearer "+dvemu.DefaultToken)
		req.Header.Set("Prefer", `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`)
		resp, err := http.DefaultClient.Do(req)
		e.check(err)
		var page struct {
			Value    []map[string]any `json:"value"`
			NextLink string           `json:"@odata.nextLink"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		e.check(err)
		for _, r := range page.Value {
			labels := map[string]string{}
			for _, c := range cols {
				if l, ok := r[c+"@OData.Community.Display.V1.FormattedValue"].(string); ok {
					labels[c] = l
				}
			}
			out[r[idName].(string)] = labels
		}
		url = page.NextLink
	}
	return out
}
