package dvemu

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func errorOf(t *testing.T, r response) (code, message string) {
	t.Helper()
	eobj, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	code, _ = eobj["code"].(string)
	message, _ = eobj["message"].(string)
	return code, message
}

func TestTrackChangesRejectsQueryOptions(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 2})
	for _, opt := range []string{"filter=name%20eq%20'x'", "orderby=name", "expand=primarycontactid", "top=1"} {
		name := opt[:strings.IndexByte(opt, '=')]
		t.Run(name, func(t *testing.T) {
			r := do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name&$"+opt, map[string][]string{"Prefer": {trackPrefer}})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			code, msg := errorOf(t, r)
			want := `The "$` + name + `" query parameter isn't supported when Change Tracking is enabled.`
			if code != codeBadSegment || msg != want {
				t.Fatalf("error %s %q, want %q", code, msg, want)
			}
		})
	}
}

func TestExpiredDeltaToken(t *testing.T) {
	tests := []struct {
		name       string
		days       int
		status     int
		age        time.Duration
		wantStatus int
	}{
		{"fresh under default 7 days", 0, 0, 6 * 24 * time.Hour, http.StatusOK},
		{"expired under default 7 days", 0, 0, 8 * 24 * time.Hour, http.StatusBadRequest},
		{"configured 30 days", 30, 0, 8 * 24 * time.Hour, http.StatusOK},
		{"configured status 410", 0, http.StatusGone, 8 * 24 * time.Hour, http.StatusGone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fixedNow{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
			_, srv := newTestEmu(t, Options{Records: 2, Now: clock.now, ExpireChangeTrackingInDays: tc.days, ExpiredTokenStatus: tc.status})
			_, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
			if !strings.Contains(delta, "%2103%2f01%2f2026%2008%3a00%3a00") {
				t.Fatalf("token time not from the clock: %s", delta)
			}
			clock.t = clock.t.Add(tc.age)
			r := do(t, srv, "GET", delta, nil)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus == http.StatusOK {
				return
			}
			code, msg := errorOf(t, r)
			if code != "0x80044352" || msg != "Version stamp associated with the client has expired. Please perform a full sync." {
				t.Fatalf("error %s %q", code, msg)
			}
		})
	}
}

func TestUntrackedEntity(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		_, srv := newTestEmu(t, Options{Records: 2})
		r := do(t, srv, "GET", "/api/data/v9.2/new_scratchnotes?$select=new_name", map[string][]string{"Prefer": {trackPrefer}})
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if code, msg := errorOf(t, r); code != "0x80072491" || msg != "Entity new_scratchnote isn't enabled for change tracking." {
			t.Fatalf("error %s %q", code, msg)
		}
	})
	t.Run("no deltaLink variant", func(t *testing.T) {
		_, srv := newTestEmu(t, Options{Records: 5, UntrackedNoDeltaLink: true})
		rows, pages, delta := readAll(t, srv, "/api/data/v9.2/new_scratchnotes?$select=new_name", 2, trackPrefer)
		if len(rows) != 5 || delta != "" {
			t.Fatalf("%d rows, deltaLink %q", len(rows), delta)
		}
		if pa := pages[0].header.Values("Preference-Applied"); strings.Contains(strings.Join(pa, ","), "track-changes") {
			t.Fatalf("Preference-Applied %v", pa)
		}
	})
	t.Run("metadata says so", func(t *testing.T) {
		_, srv := newTestEmu(t, Options{})
		r := do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions?$select=LogicalName&$filter=ChangeTrackingEnabled%20eq%20false", nil)
		vs := r.json(t)["value"].([]any)
		if len(vs) != 2 || vs[0].(map[string]any)["LogicalName"] != "new_scratchnote" || vs[1].(map[string]any)["LogicalName"] != "activitypointer" {
			t.Fatalf("untracked entities %v", vs)
		}
	})
}

func TestBadRequests(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 2})
	tests := []struct {
		name, url string
		status    int
		code      string
	}{
		{"unknown entity set", "/api/data/v9.2/nopes", 404, codeBadSegment},
		{"unknown column", "/api/data/v9.2/accounts?$select=nope", 400, codeBadSegment},
		{"companion column", "/api/data/v9.2/accounts?$select=primarycontactidname", 400, codeBadSegment},
		{"malformed delta token", "/api/data/v9.2/accounts?$deltatoken=garbage", 400, codeBadRequest},
		{"malformed skip token", "/api/data/v9.2/accounts?$skiptoken=%3Cnope", 400, codeBadRequest},
		{"other version", "/api/data/v9.1/accounts", 404, codeBadSegment},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", tc.url, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if code, _ := errorOf(t, r); code != tc.code {
				t.Fatalf("code %s, want %s", code, tc.code)
			}
		})
	}
}

func TestLinksFromAnotherRunExpire(t *testing.T) {
	clock := &fixedNow{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	e1, srv1 := newTestEmu(t, Options{Records: 4, Now: clock.now})
	_, _, delta := readAll(t, srv1, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
	first := getPage(t, srv1, "/api/data/v9.2/accounts?$select=name", trackPrefer, "odata.maxpagesize=2")
	_ = e1
	// A restarted emulator has no history before its start: links held from
	// the earlier run must force a full read, not silently miss changes.
	clock.t = clock.t.Add(time.Hour)
	_, srv2 := newTestEmu(t, Options{Records: 4, Now: clock.now})
	for name, link := range map[string]string{"deltaLink": delta, "nextLink": first.nextLink} {
		t.Run(name, func(t *testing.T) {
			link = srv2.URL + link[len(srv1.URL):]
			r := do(t, srv2, "GET", link, nil)
			if code, _ := errorOf(t, r); r.status != http.StatusBadRequest || code != "0x80044352" {
				t.Fatalf("status %d code %s", r.status, code)
			}
		})
	}
	// A token claiming a version this org has not reached is refused too.
	r := do(t, srv1, "GET", "/api/data/v9.2/accounts?$select=name&$deltatoken=999999999%2103%2f01%2f2026%2008%3a30%3a00", nil)
	if code, _ := errorOf(t, r); code != "0x80044352" {
		t.Fatalf("future version: %d %s", r.status, code)
	}
}
