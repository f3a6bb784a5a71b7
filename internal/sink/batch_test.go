package sink

import (
	"errors"
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

func TestPrepare(t *testing.T) {
	table := schema.TableName{Name: "account"}
	cols := map[string]schema.ColumnType{"name": schema.StringType(10), "createdon": {Kind: record.DateTime}}
	id := func(c byte) string { return "0000000" + string(c) + "-0000-4000-8000-000000000000" }
	up := func(i string, v int64) record.Record {
		return record.Record{ID: i, Version: v, Values: []record.Value{record.StringValue("x")}}
	}
	tests := []struct {
		name    string
		b       record.Batch
		ups     []string // id@version kept, in order
		dels    []string
		skipped int
		err     error
	}{
		{"highest upsert per id wins, first position kept",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{up(id('1'), 1), up(id('2'), 5), up(id('1'), 3), up(id('1'), 2)}},
			[]string{id('1') + "@3", id('2') + "@5"}, nil, 2, nil},
		{"ids compared case-insensitively and stored lowercase",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{up("0000000A-0000-4000-8000-000000000000", 1), up(id('a'), 2)}},
			[]string{id('a') + "@2"}, nil, 1, nil},
		{"highest delete per id",
			record.Batch{Deletes: []record.Delete{{ID: id('1'), Version: 4}, {ID: id('1'), Version: 9}, {ID: id('2'), Version: 1}}},
			nil, []string{id('1') + "@9", id('2') + "@1"}, 0, nil},
		{"date values fit datetime columns",
			record.Batch{Columns: []record.Column{{Name: "createdon", Kind: record.Date}}},
			nil, nil, 0, nil},
		{"unknown column", record.Batch{Columns: []record.Column{{Name: "nope", Kind: record.String}}}, nil, nil, 0, ErrUnknownColumn},
		{"column twice", record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}, {Name: "name", Kind: record.String}}}, nil, nil, 0, ErrBadBatch},
		{"kind does not fit", record.Batch{Columns: []record.Column{{Name: "name", Kind: record.Int}}}, nil, nil, 0, ErrBadBatch},
		{"ten characters fit nvarchar(10), multi-byte ones too",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{
				{ID: id('1'), Version: 1, Values: []record.Value{record.StringValue("üüüüüüüüüü")}}}},
			[]string{id('1') + "@1"}, nil, 0, nil},
		{"eleven characters do not, trailing spaces included",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{
				{ID: id('1'), Version: 1, Values: []record.Value{record.StringValue("abc        ")}}}},
			nil, nil, 0, ErrBadBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Prepare(table, tc.b, cols)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var ups, dels []string
			for _, r := range p.Upserts {
				ups = append(ups, r.ID+"@"+record.IntValue(r.Version).String())
			}
			for _, d := range p.Deletes {
				dels = append(dels, d.ID+"@"+record.IntValue(d.Version).String())
			}
			if !slices.Equal(ups, tc.ups) || !slices.Equal(dels, tc.dels) || p.Skipped != tc.skipped {
				t.Fatalf("upserts %v deletes %v skipped %d; want %v %v %d", ups, dels, p.Skipped, tc.ups, tc.dels, tc.skipped)
			}
		})
	}
}
