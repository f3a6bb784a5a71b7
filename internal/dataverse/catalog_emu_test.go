package dataverse_test

import (
	"testing"

	"github.com/dataexport/dataexport/internal/dvemu"
)

// The catalog of the sample org: every entity with its display name and
// change-tracking flag, and each N:N relationship once, in one request.
func TestCatalog(t *testing.T) {
	_, c := emuOrg(t, dvemu.Options{Records: 1, RandSeed: 1}, nil)
	before := c.Stats().Requests
	cat, err := c.Catalog(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Stats().Requests - before; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	byName := map[string]int{}
	for i, e := range cat.Entities {
		byName[e.LogicalName] = i
		if i > 0 && cat.Entities[i-1].LogicalName >= e.LogicalName {
			t.Fatalf("entities not sorted at %s", e.LogicalName)
		}
	}
	acct, ok := byName["account"]
	if !ok || !cat.Entities[acct].ChangeTrackingEnabled || cat.Entities[acct].DisplayName == "" {
		t.Fatalf("account: %+v", cat.Entities[acct])
	}
	ap, ok := byName["activitypointer"]
	if !ok || cat.Entities[ap].ChangeTrackingEnabled || !cat.Entities[ap].IsActivity {
		t.Fatalf("activitypointer: %+v", cat.Entities[ap])
	}
	if len(cat.Relationships) == 0 {
		t.Fatal("no N:N relationships")
	}
	seen := map[string]bool{}
	for _, r := range cat.Relationships {
		if seen[r.SchemaName] {
			t.Fatalf("%s listed twice", r.SchemaName)
		}
		seen[r.SchemaName] = true
		if r.IntersectEntityName == "" || r.Entity1LogicalName == "" || r.Entity2LogicalName == "" {
			t.Fatalf("incomplete relationship %+v", r)
		}
		if _, ok := byName[r.Entity1LogicalName]; !ok {
			t.Errorf("%s names %s, not in the catalog", r.SchemaName, r.Entity1LogicalName)
		}
	}
}
