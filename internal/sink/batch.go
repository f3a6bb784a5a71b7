package sink

import (
	"fmt"
	"unicode/utf8"

	"github.com/dataexport/dataexport/internal/errclass"
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
	// Rejected are the records refused here, without a round trip: they
	// are in neither Upserts nor Deletes.
	Rejected []Rejection
	// Overwrite is the batch's record.Batch.Overwrite: an upsert also
	// replaces a stored row of the same version.
	Overwrite bool
}

// Prepare checks b against the data columns of table (name → type, as the
// dialect read them). Every column must exist (else an *UnknownColumnError)
// with a compatible kind (else a *BatchError): those fail the whole batch.
// Then each record, once only the newest change per id is kept: it must
// carry one value per column of that kind (or null), a GUID id and GUID
// values, decimal text, strings no longer than their column. A record that
// does not is rejected alone. It never modifies b.
func Prepare(table schema.TableName, b record.Batch, columns map[string]schema.ColumnType) (Prepared, error) {
	p := Prepared{Table: table, Columns: b.Columns, Overwrite: b.Overwrite}
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
	ups := dedupeUpserts(b.Upserts)
	p.Skipped = len(b.Upserts) - len(ups)
	p.Upserts = ups[:0] // filtered in place: dedupeUpserts made a copy
	for i := range ups {
		r := &ups[i]
		if err := checkRecord(table, b.Columns, maxLen, r); err != nil {
			p.Rejected = append(p.Rejected, Rejection{ID: r.ID, Version: r.Version, Err: err, Class: errclass.Record})
			continue
		}
		p.Upserts = append(p.Upserts, *r)
	}
	for _, d := range dedupeDeletes(b.Deletes) {
		if !IsGUID(d.ID) {
			p.Rejected = append(p.Rejected, Rejection{ID: d.ID, Version: d.Version, Delete: true, Class: errclass.Record,
				Err: &BatchError{Table: table, Reason: "delete id is not a GUID"}})
			continue
		}
		p.Deletes = append(p.Deletes, d)
	}
	return p, nil
}

// checkRecord is why r cannot be written to columns cols, or nil.
func checkRecord(table schema.TableName, cols []record.Column, maxLen []int, r *record.Record) error {
	if !IsGUID(r.ID) {
		return &BatchError{Table: table, Reason: "upsert id is not a GUID"}
	}
	if len(r.Values) != len(cols) {
		return &BatchError{Table: table, ID: r.ID, Reason: fmt.Sprintf("%d values for %d columns", len(r.Values), len(cols))}
	}
	for j, v := range r.Values {
		if v.Kind == record.Null {
			continue
		}
		if v.Kind != cols[j].Kind {
			return &BatchError{Table: table, ID: r.ID, Column: cols[j].Name, Reason: fmt.Sprintf("value of kind %s in a %s column", v.Kind, cols[j].Kind)}
		}
		if v.Kind == record.GUID && !IsGUID(v.S) {
			return &BatchError{Table: table, ID: r.ID, Column: cols[j].Name, Reason: "value is not a GUID"}
		}
		if n := maxLen[j]; n > 0 && v.Kind == record.String && len(v.S) > n && utf8.RuneCountInString(v.S) > n {
			return &BatchError{Table: table, ID: r.ID, Column: cols[j].Name, Reason: fmt.Sprintf("value of %d characters for a column of %d", utf8.RuneCountInString(v.S), n)}
		}
		if v.Kind == record.Decimal && !IsDecimal(v.S) {
			return &BatchError{Table: table, ID: r.ID, Column: cols[j].Name, Reason: "value is not a decimal number"}
		}
	}
	return nil
}

// Without is p without the changes the rejections name (same id, kind and
// version), for a dialect that rejects records by checks of its own.
func (p Prepared) Without(rej []Rejection) Prepared {
	if len(rej) == 0 {
		return p
	}
	type key struct {
		id  string
		del bool
		v   int64
	}
	drop := make(map[key]bool, len(rej))
	for _, r := range rej {
		drop[key{r.ID, r.Delete, r.Version}] = true
	}
	q := p
	q.Upserts, q.Deletes = nil, nil
	for _, r := range p.Upserts {
		if !drop[key{r.ID, false, r.Version}] {
			q.Upserts = append(q.Upserts, r)
		}
	}
	for _, d := range p.Deletes {
		if !drop[key{d.ID, true, d.Version}] {
			q.Deletes = append(q.Deletes, d)
		}
	}
	return q
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
