package schema_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

func render(rows [][]record.Value, cols ...int) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var parts []string
		for i, v := range r {
			if cols == nil || slices.Contains(cols, i) {
				parts = append(parts, v.String())
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	slices.Sort(out)
	return out
}

func TestMetadataRows(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sets := schema.Metadata([]*dataverse.Entity{sinktest.Account("account"), sinktest.Account("account")}, now)
	byName := map[string]schema.MetadataRows{}
	for _, s := range sets {
		byName[s.Table.Name] = s
	}
	tests := []struct {
		table string
		keys  []string
		cols  []int // columns compared; nil = all
		want  []string
	}{
		{schema.GlobalOptionSetMetadata, []string{"categories"}, nil, []string{
			"categories|1|false|1033|Preferred", "categories|3|false|1033|Standard", `categories|5|false|1033|It's "quoted"`,
		}},
		{schema.OptionSetMetadata, []string{"account"}, nil, []string{
			"account|donotemail|0|false|1033|Allow", "account|donotemail|1|false|1033|Do Not Allow",
			"account|industrycode|1|false|1031|Buchhaltung", "account|industrycode|1|true|1033|Accounting",
			"account|industrycode|2|false|1033|Agriculture and Non-petrol Natural Resource Extraction",
		}},
		{schema.StateMetadata, []string{"account"}, nil, []string{"account|0|false|1033|Active", "account|1|false|1033|Inactive"}},
		{schema.StatusMetadata, []string{"account"}, nil, []string{"account|0|1|false|1033|Active", "account|1|2|false|1033|Inactive"}},
		{schema.TargetMetadata, []string{"account"}, nil, []string{
			"account|ownerid|systemuser|systemuserid", "account|ownerid|team|teamid",
			"account|parentcustomerid|account|accountid", "account|parentcustomerid|contact|contactid",
			"account|primarycontactid|contact|contactid",
		}},
		// Every column with an attribute behind it: the lookup helpers and
		// versionnumber too, not the _entitytype columns (ours). Version is
		// checked below.
		{schema.AttributeMetadata, []string{"account"}, []int{1, 2, 3, 4, 6, 7, 8}, []string{
			"account|accountid|Uniqueidentifier|15|2026-01-02T03:04:05Z|NULL|NULL",
			"account|address1_latitude|Double|4|2026-01-02T03:04:05Z|NULL|5",
			"account|birthday|DateTime|2|2026-01-02T03:04:05Z|NULL|NULL",
			"account|categories|MultiSelectPicklist|17|2026-01-02T03:04:05Z|NULL|NULL",
			"account|createdon|DateTime|2|2026-01-02T03:04:05Z|NULL|NULL",
			"account|description|Memo|7|2026-01-02T03:04:05Z|NULL|NULL",
			"account|donotemail|Boolean|0|2026-01-02T03:04:05Z|NULL|NULL",
			"account|entityimage_timestamp|BigInt|18|2026-01-02T03:04:05Z|NULL|NULL",
			"account|exchangerate|Decimal|3|2026-01-02T03:04:05Z|NULL|10",
			"account|industrycode|Picklist|11|2026-01-02T03:04:05Z|NULL|NULL",
			"account|longtext|String|14|2026-01-02T03:04:05Z|NULL|NULL",
			"account|name|String|14|2026-01-02T03:04:05Z|NULL|NULL",
			"account|numberofemployees|Integer|5|2026-01-02T03:04:05Z|NULL|NULL",
			"account|owneridname|String|14|2026-01-02T03:04:05Z|NULL|NULL",
			"account|owneridtype|EntityName|20|2026-01-02T03:04:05Z|NULL|NULL",
			"account|owneridyominame|String|14|2026-01-02T03:04:05Z|NULL|NULL",
			"account|ownerid|Owner|9|2026-01-02T03:04:05Z|NULL|NULL",
			"account|parentcustomeridname|String|14|2026-01-02T03:04:05Z|NULL|NULL",
			"account|parentcustomeridtype|EntityName|20|2026-01-02T03:04:05Z|NULL|NULL",
			"account|parentcustomerid|Customer|1|2026-01-02T03:04:05Z|NULL|NULL",
			"account|primarycontactidname|String|14|2026-01-02T03:04:05Z|NULL|NULL",
			"account|primarycontactid|Lookup|6|2026-01-02T03:04:05Z|NULL|NULL",
			"account|revenue_base|Money|8|2026-01-02T03:04:05Z|NULL|4",
			"account|revenue|Money|8|2026-01-02T03:04:05Z|NULL|2",
			"account|statecode|State|12|2026-01-02T03:04:05Z|NULL|NULL",
			"account|statuscode|Status|13|2026-01-02T03:04:05Z|NULL|NULL",
			"account|versionnumber|BigInt|18|2026-01-02T03:04:05Z|NULL|NULL",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.table, func(t *testing.T) {
			set, ok := byName[tc.table]
			if !ok {
				t.Fatalf("no rows for %s", tc.table)
			}
			if !slices.Equal(set.Keys, tc.keys) {
				t.Errorf("keys %v, want %v", set.Keys, tc.keys)
			}
			for _, r := range set.Rows {
				if len(r) != len(set.Table.Columns) {
					t.Fatalf("row of %d values for %d columns", len(r), len(set.Table.Columns))
				}
				for i, v := range r {
					if !v.IsNull() && v.Kind != set.Table.Columns[i].Type.Kind && !(v.Kind == record.DateTime) {
						t.Errorf("column %s holds a %s", set.Table.Columns[i].Name, v.Kind)
					}
				}
			}
			got := render(set.Rows, tc.cols...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	// Ids are GUIDs, stable across calls and distinct.
	ids := map[string]bool{}
	again := schema.Metadata([]*dataverse.Entity{sinktest.Account("account")}, now)
	for i, r := range byName[schema.AttributeMetadata].Rows {
		id := r[0].S
		if ids[id] || len(id) != 36 || again[5].Rows[i][0].S != id {
			t.Errorf("AttributeMetadata Id %q: duplicate, malformed or unstable", id)
		}
		ids[id] = true
	}
}

// TestAttributeMetadataVersion: Version is filled for every attribute, the
// same while its definition stays, another once it changes.
func TestAttributeMetadataVersion(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	versions := func(e *dataverse.Entity) map[string]int64 {
		out := map[string]int64{}
		for _, r := range schema.Metadata([]*dataverse.Entity{e}, now)[5].Rows {
			if r[5].IsNull() || r[5].Kind != record.Int || r[5].I <= 0 {
				t.Fatalf("%s: Version %v", r[2], r[5])
			}
			out[r[2].S] = r[5].I
		}
		return out
	}
	before := versions(sinktest.Account("account"))
	if again := versions(sinktest.Account("account")); !maps.Equal(before, again) {
		t.Errorf("versions differ between two reads of the same definition")
	}
	changed := sinktest.Account("account")
	changed.Attribute("name").MaxLength = 200
	changed.Attribute("industrycode").OptionSet.Options[1].Labels[0].Label = "Agriculture"
	after := versions(changed)
	for name, v := range before {
		moved := name == "name" || name == "industrycode"
		if (after[name] != v) != moved {
			t.Errorf("%s: version %d -> %d (definition changed: %t)", name, v, after[name], moved)
		}
	}
}
