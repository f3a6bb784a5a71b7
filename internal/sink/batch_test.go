package sink

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/errclass"
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
		reject  []string // id@version rejected, in order
		err     error
	}{
		{"highest upsert per id wins, first position kept",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{up(id('1'), 1), up(id('2'), 5), up(id('1'), 3), up(id('1'), 2)}},
			[]string{id('1') + "@3", id('2') + "@5"}, nil, 2, nil, nil},
		{"ids compared case-insensitively and stored lowercase",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{up("0000000A-0000-4000-8000-000000000000", 1), up(id('a'), 2)}},
			[]string{id('a') + "@2"}, nil, 1, nil, nil},
		{"highest delete per id",
			record.Batch{Deletes: []record.Delete{{ID: id('1'), Version: 4}, {ID: id('1'), Version: 9}, {ID: id('2'), Version: 1}}},
			nil, []string{id('1') + "@9", id('2') + "@1"}, 0, nil, nil},
		{"date values fit datetime columns",
			record.Batch{Columns: []record.Column{{Name: "createdon", Kind: record.Date}}},
			nil, nil, 0, nil, nil},
		{"unknown column", record.Batch{Columns: []record.Column{{Name: "nope", Kind: record.String}}}, nil, nil, 0, nil, ErrUnknownColumn},
		{"column twice", record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}, {Name: "name", Kind: record.String}}}, nil, nil, 0, nil, ErrBadBatch},
		{"kind does not fit", record.Batch{Columns: []record.Column{{Name: "name", Kind: record.Int}}}, nil, nil, 0, nil, ErrBadBatch},
		{"ten characters fit nvarchar(10), multi-byte ones too",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{
				{ID: id('1'), Version: 1, Values: []record.Value{record.StringValue("üüüüüüüüüü")}}}},
			[]string{id('1') + "@1"}, nil, 0, nil, nil},
		{"eleven characters do not, trailing spaces included: that record alone is rejected",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{
				{ID: id('1'), Version: 1, Values: []record.Value{record.StringValue("abc        ")}}, up(id('2'), 1)}},
			[]string{id('2') + "@1"}, nil, 0, []string{id('1') + "@1"}, nil},
		{"each malformed record rejected alone",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{
				up("42", 1), up(id('2'), 1),
				{ID: id('3'), Version: 1, Values: nil},
				{ID: id('4'), Version: 1, Values: []record.Value{record.IntValue(1)}},
			}, Deletes: []record.Delete{{ID: "x'; drop table y; --", Version: 1}, {ID: id('5'), Version: 2}}},
			[]string{id('2') + "@1"}, []string{id('5') + "@2"}, 0, []string{"42@1", id('3') + "@1", id('4') + "@1", "x'; drop table y; --@1"}, nil},
		{"an older bad duplicate of a good record is only skipped",
			record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}}, Upserts: []record.Record{
				{ID: id('1'), Version: 1, Values: []record.Value{record.StringValue("far too long for ten")}}, up(id('1'), 2)}},
			[]string{id('1') + "@2"}, nil, 1, nil, nil},
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
			var rej []string
			for _, r := range p.Rejected {
				rej = append(rej, r.ID+"@"+record.IntValue(r.Version).String())
				var be *BatchError
				if !errors.As(r.Err, &be) || r.Class != errclass.Record || errclass.Of(r.Err) != errclass.Record {
					t.Errorf("rejection %s: %v (%s), want a record-class *BatchError", r.ID, r.Err, r.Class)
				}
				if strings.Contains(r.Err.Error(), "far too long") {
					t.Errorf("rejection %s quotes the value: %v", r.ID, r.Err)
				}
			}
			if !slices.Equal(rej, tc.reject) {
				t.Fatalf("rejected %v, want %v", rej, tc.reject)
			}
		})
	}
}
