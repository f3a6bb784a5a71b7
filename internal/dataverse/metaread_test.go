package dataverse

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

func TestEntityMetadata(t *testing.T) {
	f := newFakeOrg(t, fixtureHandler(t))
	c := f.client(t, nil)
	e, err := c.Entity(context.Background(), "account")
	if err != nil {
		t.Fatal(err)
	}
	if e.EntitySetName != "accounts" || e.PrimaryIDAttribute != "accountid" || !e.ChangeTrackingEnabled ||
		e.ObjectTypeCode != 1 || e.OwnershipType != "UserOwned" || e.PrimaryNameAttribute != "name" {
		t.Errorf("entity = %+v", *e)
	}
	if len(e.Attributes) != 25 {
		t.Errorf("got %d attributes, want 25", len(e.Attributes))
	}
	intp := func(v int) *int { return &v }
	fp := func(v float64) *float64 { return &v }
	tests := []struct {
		attr  string
		check func(a *Attribute) bool
	}{
		{"name", func(a *Attribute) bool {
			return a.Type == TypeString && a.MaxLength == 160 && a.IsPrimaryName && a.Format == "Text"
		}},
		{"description", func(a *Attribute) bool { return a.Type == TypeMemo && a.MaxLength == 2000 }},
		{"numberofemployees", func(a *Attribute) bool {
			return a.Type == TypeInteger && reflect.DeepEqual(a.MinValue, fp(0)) && reflect.DeepEqual(a.MaxValue, fp(1e9))
		}},
		{"revenue", func(a *Attribute) bool { return a.Type == TypeMoney && a.Precision == 2 && a.PrecisionSource == 2 }},
		{"exchangerate", func(a *Attribute) bool { return a.Type == TypeDecimal && a.Precision == 10 }},
		{"address1_latitude", func(a *Attribute) bool { return a.Type == TypeDouble && a.Precision == 5 && a.IsLogical }},
		{"modifiedon", func(a *Attribute) bool { return a.DateTimeBehavior == UserLocal && a.Format == "DateAndTime" }},
		{"lastonholdtime", func(a *Attribute) bool { return a.DateTimeBehavior == DateOnly }},
		{"ownerid", func(a *Attribute) bool {
			return a.Type == TypeOwner && reflect.DeepEqual(a.Targets, []string{"systemuser", "team"})
		}},
		{"parentaccountid", func(a *Attribute) bool { return reflect.DeepEqual(a.Targets, []string{"account"}) }},
		{"owneridname", func(a *Attribute) bool { return a.AttributeOf == "ownerid" && a.MaxLength == 100 }},
		{"traversedpath", func(a *Attribute) bool { return !a.IsValidForRead }},
		{"new_hobbies", func(a *Attribute) bool {
			return a.Type == TypeMultiSelectPicklist && a.AttributeTypeRaw == "Virtual" && a.OptionSet != nil &&
				a.OptionSet.IsGlobal && len(a.OptionSet.Options) == 2 && a.OptionSet.Options[1].Labels[0].Label == "Skiing"
		}},
		{"accountcategorycode", func(a *Attribute) bool {
			os := a.OptionSet
			return os != nil && os.OptionSetType == "Picklist" && len(os.Options) == 2 && os.Options[0].Value == 1 &&
				os.Options[0].UserLabel != nil && os.Options[0].UserLabel.Label == "Preferred Customer" &&
				os.Options[0].UserLabel.LanguageCode == 1033
		}},
		{"statecode", func(a *Attribute) bool {
			os := a.OptionSet
			return os != nil && len(os.Options) == 2 && reflect.DeepEqual(os.Options[1].DefaultStatus, intp(2)) &&
				os.Options[1].InvariantName == "Inactive"
		}},
		{"statuscode", func(a *Attribute) bool {
			os := a.OptionSet
			return os != nil && len(os.Options) == 2 && reflect.DeepEqual(os.Options[1].State, intp(1))
		}},
		{"donotemail", func(a *Attribute) bool {
			os := a.OptionSet
			return os != nil && os.TrueOption != nil && os.TrueOption.Value == 1 && os.FalseOption != nil &&
				os.FalseOption.Labels[0].Label == "Allow"
		}},
		{"entityimage", func(a *Attribute) bool { return a.Type == TypeImage }},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			a := e.Attribute(tt.attr)
			if a == nil {
				t.Fatalf("attribute %s missing", tt.attr)
			}
			if !tt.check(a) {
				t.Errorf("attribute %s = %+v", tt.attr, *a)
			}
		})
	}
	if len(e.ManyToMany) != 1 || e.ManyToMany[0].IntersectEntityName != "accountleads" || e.ManyToMany[0].Entity2IntersectAttribute != "leadid" {
		t.Errorf("many-to-many = %+v", e.ManyToMany)
	}

	// One request for the entity, one per attribute type present, one for N:N.
	reqs := f.requests()
	if want := 1 + len(castQueries) + 1; len(reqs) != want {
		t.Errorf("%d requests, want %d", len(reqs), want)
	}
	for _, r := range reqs {
		for h, want := range map[string]string{"OData-Version": "4.0", "OData-MaxVersion": "4.0", "Accept": "application/json"} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: header %s = %q, want %q", r.URL.Path, h, got, want)
			}
		}
		if strings.Contains(r.URL.Path, "/Attributes/") && !strings.Contains(r.URL.RawQuery, "LogicalName") {
			t.Errorf("cast query %s does not select LogicalName", r.URL)
		}
	}
}

func TestEntityNotFound(t *testing.T) {
	f := newFakeOrg(t, fixtureHandler(t))
	c := f.client(t, nil)
	_, err := c.Entity(context.Background(), "nosuchentity")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	var re *ResponseError
	if !errors.As(err, &re) || re.Code != "0x80060888" || re.Entity != "nosuchentity" {
		t.Errorf("err = %#v", err)
	}
	if _, err := c.Entity(context.Background(), "bad'name"); err == nil {
		t.Error("a logical name with a quote was accepted")
	}
}

// An attribute type this build does not know stops the entity with a typed
// error naming the entity, the attribute and the type, rather than leaving
// the column out without a word.
func TestEntityUnknownAttributeType(t *testing.T) {
	fixture, err := os.ReadFile("testdata/metadata/entity_account.json")
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Replace(fixture, []byte(`"AttributeTypeName": {"Value": "StringType"}, "IsValidForRead": true, "IsPrimaryId": false, "IsPrimaryName": true`),
		[]byte(`"AttributeTypeName": {"Value": "HologramType"}, "IsValidForRead": true, "IsPrimaryId": false, "IsPrimaryName": true`), 1)
	if bytes.Equal(body, fixture) {
		t.Fatal("the fixture no longer has the attribute this test changes")
	}
	f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/data/v9.2/EntityDefinitions(LogicalName='account')" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			return
		}
		serveMetadata(t, w, r)
	})
	_, err = f.client(t, nil).Entity(t.Context(), "account")
	var me *MalformedError
	if !errors.As(err, &me) || me.Entity != "account" {
		t.Fatalf("err = %v; want a *MalformedError for account", err)
	}
	for _, want := range []string{"name", `"HologramType"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// The read after a known schema change asks for the stored definitions
// (Consistency: Strong); ordinary refreshes do not, as the docs advise.
func TestEntityStrongConsistency(t *testing.T) {
	var strong, plain atomic.Int64
	f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "EntityDefinitions") {
			if r.Header.Get("Consistency") == "Strong" {
				strong.Add(1)
			} else {
				plain.Add(1)
			}
		}
		if !serveMetadata(t, w, r) {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	c := f.client(t, nil)
	if _, err := c.Entity(t.Context(), "account"); err != nil {
		t.Fatal(err)
	}
	if strong.Load() != 0 || plain.Load() == 0 {
		t.Fatalf("plain read: %d strong, %d plain requests; want none strong", strong.Load(), plain.Load())
	}
	n := plain.Load()
	if _, err := c.Entity(StrongConsistency(t.Context()), "account"); err != nil {
		t.Fatal(err)
	}
	if strong.Load() != n || plain.Load() != n {
		t.Fatalf("strong read: %d strong, %d more plain; want every request strong", strong.Load(), plain.Load()-n)
	}
}
