package tests

import (
	"testing"

	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/record"
)

// primaryName is each emulated entity's primary name attribute, written out
// here rather than taken from the product's metadata reading.
var primaryName = map[string]string{"account": "name", "contact": "fullname", "systemuser": "fullname", "team": "name"}

// TestLookupHelperColumns: the lookup helper columns DES wrote
// (owneridname, owneridyominame, owneridtype, parentcustomeridname,
// parentcustomeridtype) hold the names and entities of the records the
// lookups point to in the emulator, after the initial read and after a
// contact is created under an account and another re-parented to a contact.
func TestLookupHelperColumns(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			e := newEnv(t, dest, schemaName)
			e.sync()
			e.checkLookupNames("after the initial sync")

			acct := e.must(e.emu.Create("account", map[string]any{"name": "Northwind " + suffix()}))
			grace := e.must(e.emu.Create("contact", map[string]any{"firstname": "Grace", "lastname": "Hopper", "parentcustomerid": dvemu.Ref{Entity: "account", ID: acct}}))
			contacts := e.emu.IDs("contact")
			moved := contacts[3]
			e.check(e.emu.Update("contact", moved, map[string]any{"parentcustomerid": dvemu.Ref{Entity: "contact", ID: grace}}))
			e.sync()
			seen := e.checkLookupNames("after the changes")
			if got := seen[grace]; got != "account" {
				t.Errorf("new contact %s: parentcustomeridtype %q, want account", grace, got)
			}
			if got := seen[moved]; got != "contact" {
				t.Errorf("re-parented contact %s: parentcustomeridtype %q, want contact", moved, got)
			}
		})
	}
}

// checkLookupNames compares the contact table's helper columns with the
// emulator's records and returns each contact's parentcustomeridtype.
func (e *env) checkLookupNames(stage string) map[string]string {
	e.t.Helper()
	cols := []record.Column{
		{Name: "parentcustomerid", Kind: record.GUID}, {Name: "parentcustomeridname", Kind: record.String},
		{Name: "parentcustomeridtype", Kind: record.String}, {Name: "ownerid", Kind: record.GUID},
		{Name: "owneridname", Kind: record.String}, {Name: "owneridyominame", Kind: record.String},
		{Name: "owneridtype", Kind: record.String},
	}
	rows := e.destination("contact", cols)
	if len(rows) == 0 {
		e.t.Fatalf("%s: no contacts replicated", stage)
	}
	types := map[string]string{}
	targets := map[string]int{}
	owners := 0
	for _, r := range rows {
		src, ok := e.emu.Get("contact", r.ID)
		if !ok {
			e.t.Fatalf("%s: contact %s is not in the emulator", stage, r.ID)
		}
		for _, lk := range []struct {
			attr              string
			guid, name, typ   int
			yomi              int // -1: none
			wantNameInColumns bool
		}{{"parentcustomerid", 0, 1, 2, -1, true}, {"ownerid", 3, 4, 6, 5, true}} {
			ref, isRef := src[lk.attr].(dvemu.Ref)
			if !isRef {
				for _, i := range []int{lk.guid, lk.name, lk.typ} {
					if !r.Values[i].IsNull() {
						e.t.Errorf("%s: contact %s has no %s, but %s = %v", stage, r.ID, lk.attr, cols[i].Name, r.Values[i])
					}
				}
				continue
			}
			target, ok := e.emu.Get(ref.Entity, ref.ID)
			if !ok {
				e.t.Fatalf("%s: contact %s: %s points to a missing %s", stage, r.ID, lk.attr, ref.Entity)
			}
			want := target[primaryName[ref.Entity]]
			if got := r.Values[lk.name]; got.Kind != record.String || got.S != want {
				e.t.Errorf("%s: contact %s %s = %v, want %v (%s %s)", stage, r.ID, cols[lk.name].Name, got, want, ref.Entity, ref.ID)
			}
			if lk.yomi >= 0 && !r.Values[lk.yomi].Equal(r.Values[lk.name]) {
				e.t.Errorf("%s: contact %s %s = %v, want the name %v", stage, r.ID, cols[lk.yomi].Name, r.Values[lk.yomi], r.Values[lk.name])
			}
			if got := r.Values[lk.typ]; got.S != ref.Entity {
				e.t.Errorf("%s: contact %s %s = %v, want %s", stage, r.ID, cols[lk.typ].Name, got, ref.Entity)
			}
			if lk.attr == "parentcustomerid" {
				types[r.ID] = r.Values[lk.typ].S
				targets[ref.Entity]++
			} else {
				owners++
			}
		}
	}
	if targets["account"] == 0 || targets["contact"] == 0 || owners == 0 {
		e.t.Fatalf("%s: the check covered parent accounts %d, parent contacts %d, owners %d: each must be seen", stage, targets["account"], targets["contact"], owners)
	}
	return types
}
