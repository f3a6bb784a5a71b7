package sink

import (
	"fmt"
	"unicode/utf8"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// Prepared is a batch checked against its table and reduced to one change of
// each kind per id, the highest version: a set-based write must not touch a
// row twice, and only the newest change can win anyway.
type Prepared struct {
	Table   schema.TableName
	Columns []record.Column
	Upserts []record.Record
	Deletes []record.Delete
	// Skipped counts upserts dropped here because the batch held a newer
	// version of the same id.
	Skipped int
}

// Prepare checks b against the data columns of table (name → type, as the
// dialect read them): every column must exist with a compatible kind, every
// record must carry one value per column of that kind (or null), and ids and
// GUID values must be GUIDs. It never modifies b.
func Prepare(table schema.TableName, b record.Batch, columns map[string]schema.ColumnType) (Prepared, error) {
	p := Prepared{Table: table, Columns: b.Columns}
	seenCol := make(map[string]bool, len(b.Columns))
	// Bounded string columns: a longer value is refused here, the same way
	// in every dialect (PostgreSQL would silently cut trailing spaces,
	// SQLite would keep it all). It means the column is narrower than the
	// attribute: the poller widens it, and a retry goes through.
	maxLen := make([]int, len(b.Columns))
	for j, c := range b.Columns {
		t, ok := columns[c.Name]
		if !ok {
			return p, &UnknownColumnError{Table: table, Column: c.Name}
		}
		if seenCol[c.Name] {
			return p, &BatchError{Table: table, Column: c.Name, Reason: "column listed twice"}
		}
		seenCol[c.Name] = true
		if !compatible(c.Kind, t.Kind) {
			return p, &BatchError{Table: table, Column: c.Name, Reason: fmt.Sprintf("batch kind %s does not fit column type %s", c.Kind, t)}
		}
		if t.Kind == record.String {
			maxLen[j] = t.Length
		}
	}
	for i := range b.Upserts {
		r := &b.Upserts[i]
		if !IsGUID(r.ID) {
			return p, &BatchError{Table: table, Reason: fmt.Sprintf("upsert %d: id is not a GUID", i)}
		}
		if len(r.Values) != len(b.Columns) {
			return p, &BatchError{Table: table, ID: r.ID, Reason: fmt.Sprintf("%d values for %d columns", len(r.Values), len(b.Columns))}
		}
		for j, v := range r.Values {
			if v.Kind == record.Null {
				continue
			}
			if v.Kind != b.Columns[j].Kind {
				return p, &BatchError{Table: table, ID: r.ID, Column: b.Columns[j].Name, Reason: fmt.Sprintf("value of kind %s in a %s column", v.Kind, b.Columns[j].Kind)}
			}
			if v.Kind == record.GUID && !IsGUID(v.S) {
				return p, &BatchError{Table: table, ID: r.ID, Column: b.Columns[j].Name, Reason: "value is not a GUID"}
			}
			if n := maxLen[j]; n > 0 && v.Kind == record.String && len(v.S) > n && utf8.RuneCountInString(v.S) > n {
				return p, &BatchError{Table: table, ID: r.ID, Column: b.Columns[j].Name, Reason: fmt.Sprintf("value of %d characters for a column of %d", utf8.RuneCountInString(v.S), n)}
			}
			if v.Kind == record.Decimal && !IsDecimal(v.S) {
				return p, &BatchError{Table: table, ID: r.ID, Column: b.Columns[j].Name, Reason: "value is not a decimal number"}
			}
		}
	}
	for i := range b.Deletes {
		if !IsGUID(b.Deletes[i].ID) {
			return p, &BatchError{Table: table, Reason: fmt.Sprintf("delete %d: id is not a GUID", i)}
		}
	}
	p.Upserts = dedupeUpserts(b.Upserts)
	p.Skipped = len(b.Upserts) - len(p.Upserts)
	p.Deletes = dedupeDeletes(b.Deletes)
	return p, nil
}

// compatible reports whether values of batch kind k can go into a column of
// kind col. Date and DateTime share storage.
func compatible(k, col record.Kind) bool {
	if k == col {
		return true
	}
	dt := func(k record.Kind) bool { return k == record.DateTime || k == record.Date }
	return dt(k) && dt(col)
}

func dedupeUpserts(in []record.Record) []record.Record {
	idx := make(map[string]int, len(in))
	out := make([]record.Record, 0, len(in))
	for _, r := range in {
		id := CanonicalGUID(r.ID)
		if j, ok := idx[id]; ok {
			if r.Version > out[j].Version {
				r.ID = id
				out[j] = r
			}
			continue
		}
		r.ID = id
		idx[id] = len(out)
		out = append(out, r)
	}
	return out
}

func dedupeDeletes(in []record.Delete) []record.Delete {
	idx := make(map[string]int, len(in))
	out := make([]record.Delete, 0, len(in))
	for _, d := range in {
		d.ID = CanonicalGUID(d.ID)
		if j, ok := idx[d.ID]; ok {
			out[j].Version = max(out[j].Version, d.Version)
			continue
		}
		idx[d.ID] = len(out)
		out = append(out, d)
	}
	return out
}
