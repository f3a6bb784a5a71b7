package dataverse

import (
	"slices"
	"testing"
)

// cloneEntity copies e deeply enough for the mutations below.
func cloneEntity(e *Entity) *Entity {
	c := *e
	c.Attributes = slices.Clone(e.Attributes)
	for i := range c.Attributes {
		a := &c.Attributes[i]
		a.Targets = slices.Clone(a.Targets)
		if a.OptionSet != nil {
			os := *a.OptionSet
			os.Options = slices.Clone(os.Options)
			for j := range os.Options {
				os.Options[j].Labels = slices.Clone(os.Options[j].Labels)
			}
			a.OptionSet = &os
		}
	}
	return &c
}

func TestFingerprintAndDiff(t *testing.T) {
	f := newFakeOrg(t, fixtureHandler(t))
	base := accountEntity(t, f.client(t, nil))
	fp := Fingerprint(base)
	if len(fp) != 64 || Fingerprint(cloneEntity(base)) != fp {
		t.Fatalf("fingerprint %q not stable", fp)
	}
	tests := []struct {
		name   string
		mutate func(e *Entity)
		want   []string // Change.String() of the expected changes, in order
		sameFP bool
	}{
		{name: "attribute order and metadata ids do not matter", sameFP: true, mutate: func(e *Entity) {
			slices.Reverse(e.Attributes)
			for i := range e.Attributes {
				e.Attributes[i].MetadataID = "x"
			}
			opts := e.Attribute("accountcategorycode").OptionSet.Options
			slices.Reverse(opts)
		}},
		{name: "added attribute", mutate: func(e *Entity) {
			e.Attributes = append(e.Attributes, Attribute{LogicalName: "new_score", Type: TypeInteger, IsValidForRead: true})
		}, want: []string{"attribute-added new_score:  -> IntegerType"}},
		{name: "removed attribute", mutate: func(e *Entity) {
			e.Attributes = slices.DeleteFunc(e.Attributes, func(a Attribute) bool { return a.LogicalName == "description" })
		}, want: []string{"attribute-removed description: MemoType -> "}},
		{name: "widened string", mutate: func(e *Entity) { e.Attribute("name").MaxLength = 200 },
			want: []string{"string-widened name: 160 -> 200"}},
		{name: "narrowed string", mutate: func(e *Entity) { e.Attribute("name").MaxLength = 100 },
			want: []string{"string-narrowed name: 160 -> 100"}},
		{name: "widened decimal", mutate: func(e *Entity) { e.Attribute("revenue").Precision = 4 },
			want: []string{"precision-widened revenue: 2 -> 4"}},
		{name: "type change", mutate: func(e *Entity) { e.Attribute("accountnumber").Type = TypeMemo },
			want: []string{"type-changed accountnumber: StringType -> MemoType"}},
		{name: "added option", mutate: func(e *Entity) {
			os := e.Attribute("accountcategorycode").OptionSet
			os.Options = append(os.Options, Option{Value: 3, Labels: []Label{{"Gold", 1033}}})
		}, want: []string{"option-added accountcategorycode option 3:  -> Gold"}},
		{name: "removed and relabelled options", mutate: func(e *Entity) {
			os := e.Attribute("new_hobbies").OptionSet
			os.Options = os.Options[1:]
			os.Options[0].Labels = []Label{{"Snowboarding", 1033}}
			os.Options[0].UserLabel = &os.Options[0].Labels[0]
		}, want: []string{"option-label-changed new_hobbies option 2: Skiing -> Snowboarding", "option-removed new_hobbies option 1: Hiking -> "}},
		{name: "boolean label", mutate: func(e *Entity) {
			os := e.Attribute("donotemail").OptionSet
			t := *os.TrueOption
			t.Labels = []Label{{"Never", 1033}}
			t.UserLabel = nil
			os.TrueOption = &t
		}, want: []string{"option-label-changed donotemail option 1: Do Not Allow -> Never"}},
		{name: "lookup target added", mutate: func(e *Entity) {
			a := e.Attribute("parentaccountid")
			a.Targets = append(a.Targets, "contact")
		}, want: []string{"targets-changed parentaccountid: account -> account,contact"}},
		{name: "datetime behavior", mutate: func(e *Entity) { e.Attribute("modifiedon").DateTimeBehavior = TimeZoneIndependent },
			want: []string{"datetime-behavior-changed modifiedon: UserLocal -> TimeZoneIndependent"}},
		{name: "became unreadable", mutate: func(e *Entity) { e.Attribute("accountnumber").IsValidForRead = false },
			want: []string{"readability-changed accountnumber: true -> false"}},
		{name: "change tracking flag changed", mutate: func(e *Entity) { e.ChangeTrackingEnabled = false },
			want: []string{"entity-changed: set=accounts id=accountid tracked=true -> set=accounts id=accountid tracked=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := cloneEntity(base)
			tt.mutate(changed)
			if got := Fingerprint(changed) == fp; got != tt.sameFP {
				t.Errorf("fingerprint equal = %v, want %v", got, tt.sameFP)
			}
			if Fingerprint(base) != fp {
				t.Fatal("mutation leaked into the base entity")
			}
			var got []string
			for _, c := range Diff(base, changed) {
				got = append(got, c.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Diff =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
