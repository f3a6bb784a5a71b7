package sync

import (
	"fmt"

	"github.com/dataexport/dataexport/internal/record"
)

// messageOverhead is a generous bound on everything in an encoded message
// besides its rows and deletes (envelope fields and the column list are added
// separately).
const messageOverhead = 512

// TooLargeError says a single record does not fit the transport's message
// size and no claim store is configured to carry it.
type TooLargeError struct {
	Entity string
	ID     string
	Size   int
	Limit  int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("record %s of %s encodes to %d bytes, more than the %d a message can carry", e.ID, e.Entity, e.Size, e.Limit)
}

// Split cuts one page into messages of at most maxBytes each (none for an
// empty page). A record too large for any message gets a message of its own,
// which the caller sends by claim check (or refuses with a *TooLargeError).
// Upserts come before deletes, in page order, as Dataverse sends them. Every
// message copies base's envelope with its own Part and ID.
func Split(base Message, upserts []record.Record, deletes []record.Delete, maxBytes int) ([]Message, error) {
	fixed := messageOverhead + len(base.Profile) + len(base.Entity) + len(base.ID)
	for _, c := range base.Batch.Columns {
		fixed += len(c.Name) + 16
	}
	if fixed >= maxBytes {
		return nil, fmt.Errorf("the column list of %s alone needs %d bytes, more than the %d a message can carry", base.Entity, fixed, maxBytes)
	}
	var out []Message
	cur := newPart(base, 0)
	size := fixed
	flush := func() {
		out = append(out, cur)
		cur = newPart(base, len(out))
		size = fixed
	}
	for i := range upserts {
		n := EncodedRecordSize(&upserts[i])
		if size+n > maxBytes && len(cur.Batch.Upserts) > 0 {
			flush()
		}
		cur.Batch.Upserts = append(cur.Batch.Upserts, upserts[i])
		size += n
	}
	for _, d := range deletes {
		n := len(d.ID) + 26
		if size+n > maxBytes && (len(cur.Batch.Upserts) > 0 || len(cur.Batch.Deletes) > 0) {
			flush()
		}
		cur.Batch.Deletes = append(cur.Batch.Deletes, d)
		size += n
	}
	if len(cur.Batch.Upserts) > 0 || len(cur.Batch.Deletes) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

func newPart(base Message, part int) Message {
	m := base
	m.Part = part
	m.ID = fmt.Sprintf("%s.%d", base.ID, part)
	m.Batch = record.Batch{Entity: base.Entity, Columns: base.Batch.Columns}
	return m
}
