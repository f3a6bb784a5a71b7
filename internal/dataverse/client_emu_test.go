package dataverse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/record"
)

// emuOrg starts the emulator behind httptest and a client of it.
func emuOrg(t *testing.T, opts dvemu.Options, co *dataverse.ClientOptions) (*dvemu.Emulator, *dataverse.Client) {
	t.Helper()
	emu, err := dvemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, emu)
	if co == nil {
		co = &dataverse.ClientOptions{}
	}
	co.Transport = srv.Client()
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), co)
	if err != nil {
		t.Fatal(err)
	}
	return emu, c
}

// newServer serves h over HTTP for the test's lifetime.
func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// readAll runs a pager to its end.
func readAll(t *testing.T, p *dataverse.ChangesPager) []*dataverse.ChangesPage {
	t.Helper()
	var pages []*dataverse.ChangesPage
	for p.More() {
		pg, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		pages = append(pages, pg)
	}
	return pages
}

// expected converts the emulator's admin form of a row into the values the
// client must produce for fields.
func expected(t *testing.T, emu *dvemu.Emulator, fields []dataverse.Field, row map[string]any) []record.Value {
	t.Helper()
	out := make([]record.Value, len(fields))
	for i, f := range fields {
		a := f.Attribute
		if f.Lookup != nil {
			a = f.Lookup // helpers hold nothing of their own
		}
		v := row[a.LogicalName]
		if v == nil {
			continue
		}
		if x, ok := v.(*dvemu.Ref); ok {
			v = *x
		}
		if x, ok := v.(dvemu.Ref); ok {
			switch f.Helper {
			case dataverse.HelperEntityType, dataverse.HelperType:
				out[i] = record.StringValue(x.Entity)
			case dataverse.HelperName:
				if name, ok := emu.Name(x.Entity, x.ID); ok {
					out[i] = record.StringValue(name)
				}
			default:
				out[i] = record.GUIDValue(x.ID)
			}
			continue
		}
		name := f.Column.Name
		switch f.Column.Kind {
		case record.String:
			out[i] = record.StringValue(as[string](t, name, v))
		case record.GUID:
			out[i] = record.GUIDValue(as[string](t, name, v))
		case record.Decimal:
			out[i] = record.DecimalValue(as[string](t, name, v))
		case record.Int:
			out[i] = record.IntValue(as[int64](t, name, v))
		case record.Bool:
			out[i] = record.BoolValue(as[bool](t, name, v))
		case record.DateTime:
			out[i] = record.DateTimeValue(as[time.Time](t, name, v))
		case record.Date:
			out[i] = record.DateValue(as[time.Time](t, name, v))
		default:
			t.Fatalf("no expectation for %s (%T)", name, v)
		}
	}
	return out
}

// as asserts the emulator's admin form of a value.
func as[T any](t *testing.T, col string, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("%s: emulator value %v is %T, want %T", col, v, v, x)
	}
	return x
}

// checkRecord compares every value of r with the emulator's store and
// reports, per field, whether it held a non-null value that matched.
// Decimal, Money and Double values must keep the exact decimal text the
// emulator stores and sends (scale and trailing zeros included), not merely
// an equal number: the contract is "exact decimal text as sent by the Web API".
func checkRecord(t *testing.T, emu *dvemu.Emulator, entity string, fields []dataverse.Field, r record.Record) []bool {
	t.Helper()
	matched := make([]bool, len(fields))
	row, ok := emu.Get(entity, r.ID)
	if !ok {
		t.Errorf("%s %s: not in the emulator", entity, r.ID)
		return matched
	}
	if r.Version != row["versionnumber"].(int64) {
		t.Errorf("%s %s: version %d, want %d", entity, r.ID, r.Version, row["versionnumber"])
	}
	want := expected(t, emu, fields, row)
	for i := range want {
		got := r.Values[i]
		ok := got.Equal(want[i])
		if want[i].Kind == record.Decimal {
			ok = got.Kind == record.Decimal && got.S == want[i].S
		}
		if !ok {
			t.Errorf("%s %s %s = %q (%s), want %q (%s)", entity, r.ID, fields[i].Column.Name, got, got.Kind, want[i], want[i].Kind)
			continue
		}
		matched[i] = !got.IsNull()
	}
	return matched
}

// wireLog keeps the bodies of the data pages the emulator sent, so values
// can be compared with the exact JSON text on the wire. The answer is
// buffered and logged before it is sent, so a page is in the log before the
// client can have read it.
type wireLog struct {
	next http.Handler

	mu     sync.Mutex
	bodies [][]byte
}

func (l *wireLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "EntityDefinitions") {
		l.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	l.mu.Lock()
	l.bodies = append(l.bodies, rec.Body.Bytes())
	l.mu.Unlock()
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// rows decodes the logged pages into rows keyed by primary id, numbers kept
// as their JSON text.
func (l *wireLog) rows(t *testing.T, primaryID string) map[string]map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[string]any{}
	for _, b := range l.bodies {
		var pg struct{ Value []map[string]any }
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&pg); err != nil {
			t.Fatalf("wire page: %v", err)
		}
		for _, row := range pg.Value {
			id, _ := row[primaryID].(string)
			out[id] = row
		}
	}
	return out
}

// typeLabel names the attribute type a field carries, as the coverage check
// of TestEmuInitialReadMatchesEveryValue lists them.
func typeLabel(f dataverse.Field) string {
	l := strings.TrimSuffix(string(f.Attribute.Type), "Type")
	if f.Attribute.Type == dataverse.TypeDateTime {
		l += "/" + string(f.Attribute.DateTimeBehavior)
	}
	switch f.Helper {
	case dataverse.HelperEntityType:
		l += " entity type"
	case dataverse.HelperType, dataverse.HelperName:
		l = "helper " + f.Column.Name[len(f.Lookup.LogicalName):]
	}
	return l
}

// projectTypes is every attribute type of the custom entity new_project
// (lookups twice: the GUID and its target entity type). Each must round-trip
// at least one non-null value, so coverage is proven per type, not by chance.
var projectTypes = []string{
	"String", "Memo", "Integer", "BigInt", "Decimal", "Double", "Money",
	"DateTime/UserLocal", "DateTime/DateOnly", "DateTime/TimeZoneIndependent",
	"Boolean", "Picklist", "MultiSelectPicklist", "State", "Status",
	"Lookup", "Lookup entity type", "Customer", "Customer entity type",
	"Owner", "Owner entity type", "Uniqueidentifier", "EntityName",
}

// TestEmuInitialReadMatchesEveryValue reads every tracked entity of the
// emulated org and compares each value of each row with the emulator's own
// store, and decimals also with their text on the wire: every attribute
// type the org has round-trips exactly.
func TestEmuInitialReadMatchesEveryValue(t *testing.T) {
	_, lister := emuOrg(t, dvemu.Options{Records: 1}, nil)
	all, err := lister.Entities(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 2 {
		t.Fatalf("only %d tracked entities listed", len(all))
	}
	kinds := map[record.Kind]bool{}
	// Decimal texts whose last fraction digit is 0: without one, a client
	// dropping trailing zeros ("1.50" -> "1.5") would still pass.
	trailingZeros := 0
	for _, ent := range all {
		entity := ent.LogicalName
		if !ent.ChangeTrackingEnabled {
			t.Errorf("%s listed as tracked without change tracking", entity)
		}
		t.Run(entity, func(t *testing.T) {
			emu, err := dvemu.New(dvemu.Options{Records: 23, RandSeed: 7})
			if err != nil {
				t.Fatal(err)
			}
			wire := &wireLog{next: emu}
			srv := newServer(t, wire)
			c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{Transport: srv.Client(), PageSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			e, err := c.Entity(context.Background(), entity)
			if err != nil {
				t.Fatal(err)
			}
			if !e.ChangeTrackingEnabled || e.EntitySetName == "" {
				t.Fatalf("entity %+v", e)
			}
			fields := dataverse.Fields(e)
			for _, f := range fields {
				kinds[f.Column.Kind] = true
			}
			pages := readAll(t, c.NewChangesPager(e, nil))
			// Entities may fix their own row counts; 10 rows per page.
			if n := len(emu.IDs(entity)); len(pages) != max(1, (n+9)/10) {
				t.Errorf("%d pages for %d rows, want %d", len(pages), n, max(1, (n+9)/10))
			}
			last := pages[len(pages)-1]
			if last.DeltaLink == "" {
				t.Fatal("no deltaLink on the last page")
			}
			if _, ok := dataverse.DeltaTokenVersion(last.DeltaLink); !ok {
				t.Errorf("delta token of %s has no version", last.DeltaLink)
			}
			onWire := wire.rows(t, e.PrimaryIDAttribute)
			covered := map[string]int{}  // type label -> non-null values that matched
			targets := map[string]bool{} // customer lookup targets that matched
			var ids []string
			for _, pg := range pages {
				for _, r := range pg.Upserts {
					ids = append(ids, r.ID)
					matched := checkRecord(t, emu, entity, fields, r)
					w, ok := onWire[r.ID]
					if !ok {
						t.Errorf("%s %s: not seen on the wire", entity, r.ID)
					}
					for i, f := range fields {
						if f.Column.Kind == record.Decimal && ok {
							matched[i] = matched[i] && checkWireDecimal(t, entity, r.ID, f, r.Values[i], w[f.Key])
							if matched[i] && strings.Contains(r.Values[i].S, ".") && strings.HasSuffix(r.Values[i].S, "0") {
								trailingZeros++
							}
						}
						if matched[i] {
							covered[typeLabel(f)]++
							if f.Helper == dataverse.HelperEntityType && f.Attribute.Type == dataverse.TypeCustomer {
								targets[r.Values[i].S] = true
							}
						}
					}
				}
				if pg.UntypedLookups != 0 {
					t.Errorf("page %d: %d untyped lookups", pg.Page, pg.UntypedLookups)
				}
			}
			slices.Sort(ids)
			if want := emu.IDs(entity); !slices.Equal(ids, want) {
				t.Errorf("read %d ids, emulator has %d", len(ids), len(want))
			}
			// The lookup helpers (owneridname, parentcustomeridtype, ...) come
			// from annotations only: each must have carried a value.
			for _, f := range fields {
				if f.Helper != dataverse.NotHelper && covered[typeLabel(f)] == 0 {
					t.Errorf("%s: no non-null %s (%s) round-tripped", entity, f.Column.Name, typeLabel(f))
				}
			}
			if entity != "new_project" {
				return
			}
			for _, typ := range projectTypes {
				if covered[typ] == 0 {
					t.Errorf("new_project: no non-null %s value round-tripped", typ)
				}
			}
			// Polymorphic: the target type is read per row, not fixed.
			if len(targets) < 2 {
				t.Errorf("new_project: customer lookups matched only targets %v, want account and contact", slices.Collect(maps.Keys(targets)))
			}
		})
	}
	for _, k := range []record.Kind{record.String, record.Int, record.Decimal, record.Bool, record.DateTime, record.Date, record.GUID} {
		if !kinds[k] {
			t.Errorf("no %s column in the emulated org: the round trip does not cover it", k)
		}
	}
	if trailingZeros == 0 {
		t.Error("no decimal with a trailing zero was read: lost scale would go unnoticed")
	}
}

// checkWireDecimal asserts that a decimal value is the JSON number's text
// exactly as the emulator sent it, and reports whether it matched.
func checkWireDecimal(t *testing.T, entity, id string, f dataverse.Field, got record.Value, wire any) bool {
	t.Helper()
	if wire == nil {
		if !got.IsNull() {
			t.Errorf("%s %s %s = %q, wire has null", entity, id, f.Column.Name, got.S)
			return false
		}
		return false
	}
	n, ok := wire.(json.Number)
	if !ok {
		t.Errorf("%s %s %s: wire value %v is %T, not a JSON number", entity, id, f.Column.Name, wire, wire)
		return false
	}
	if got.S != n.String() {
		t.Errorf("%s %s %s = %q, wire text %q", entity, id, f.Column.Name, got.S, n)
		return false
	}
	return true
}

func TestEmuDeltaAfterChanges(t *testing.T) {
	emu, c := emuOrg(t, dvemu.Options{Records: 5, RandSeed: 1}, nil)
	ctx := context.Background()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	fields := dataverse.Fields(e)
	pages := readAll(t, c.NewChangesPager(e, nil))
	link := pages[len(pages)-1].DeltaLink
	v0, _ := dataverse.DeltaTokenVersion(link)

	ids := emu.IDs("account")
	created, err := emu.Create("account", map[string]any{"name": "Delta Co", "revenue": "12.50", "numberofemployees": 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Update("account", ids[0], map[string]any{"name": "Renamed"}); err != nil {
		t.Fatal(err)
	}
	if err := emu.Delete("account", ids[1]); err != nil {
		t.Fatal(err)
	}

	if n, err := c.PendingChanges(ctx, e, link); err != nil || n != 3 {
		t.Errorf("PendingChanges = %d, %v; want 3", n, err)
	}
	dp := c.NewChangesPager(e, &dataverse.ChangesOptions{Link: link})
	delta := readAll(t, dp)
	var up []string
	var del []string
	for _, pg := range delta {
		if !pg.Delta {
			t.Errorf("page %d not marked delta", pg.Page)
		}
		for _, r := range pg.Upserts {
			up = append(up, r.ID)
			checkRecord(t, emu, "account", fields, r)
		}
		del = append(del, pg.Deletes...)
	}
	slices.Sort(up)
	wantUp := []string{created, ids[0]}
	slices.Sort(wantUp)
	if !slices.Equal(up, wantUp) || !slices.Equal(del, []string{ids[1]}) {
		t.Errorf("delta upserts %v deletes %v; want %v and [%s]", up, del, wantUp, ids[1])
	}
	next := delta[len(delta)-1].DeltaLink
	if v1, ok := dataverse.DeltaTokenVersion(next); !ok || v1 <= v0 {
		t.Errorf("delta token version %d after %d", v1, v0)
	}

	// Nothing changed since: an empty delta with a fresh link.
	empty := readAll(t, c.NewChangesPager(e, &dataverse.ChangesOptions{Link: next}))
	if n := len(empty); n != 1 || len(empty[0].Upserts)+len(empty[0].Deletes) != 0 || empty[0].DeltaLink == "" {
		t.Errorf("empty delta: %d pages %+v", n, empty)
	}
}

func TestEmuUnknownEntity(t *testing.T) {
	_, c := emuOrg(t, dvemu.Options{Records: 1}, nil)
	_, err := c.Entity(context.Background(), "nosuchentity")
	if !errors.Is(err, dataverse.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestEmuWrongToken(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken("wrong"), &dataverse.ClientOptions{Transport: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Entity(context.Background(), "account")
	if !errors.Is(err, dataverse.ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
	_ = fmt.Sprint
}

// Without lookuplogicalname annotations, single-target lookups still get their
// type and polymorphic ones (ownerid) are counted, never guessed.
func TestEmuWithoutLookupAnnotations(t *testing.T) {
	emu, c := emuOrg(t, dvemu.Options{Records: 8, RandSeed: 3, OmitLookupAnnotations: true}, nil)
	e, err := c.Entity(context.Background(), "account")
	if err != nil {
		t.Fatal(err)
	}
	fields := dataverse.Fields(e)
	col := func(name string) int {
		for i, f := range fields {
			if f.Column.Name == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	owner, ownerType, contactType := col("ownerid"), col("ownerid_entitytype"), col("primarycontactid_entitytype")
	untyped, owners := 0, 0
	for _, pg := range readAll(t, c.NewChangesPager(e, nil)) {
		untyped += pg.UntypedLookups
		for _, r := range pg.Upserts {
			if !r.Values[owner].IsNull() {
				owners++
			}
			if !r.Values[ownerType].IsNull() {
				t.Errorf("%s: ownerid_entitytype guessed as %v", r.ID, r.Values[ownerType])
			}
			row, _ := emu.Get("account", r.ID)
			if row["primarycontactid"] != nil && r.Values[contactType].S != "contact" {
				t.Errorf("%s: primarycontactid_entitytype = %v, want contact", r.ID, r.Values[contactType])
			}
		}
	}
	if owners == 0 || untyped != owners {
		t.Errorf("untyped lookups %d, owners %d", untyped, owners)
	}
}
