package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

// COPY in the binary format, encoded here straight from the record values:
// pgx's CopyFrom plans the encoding of every value through its type map
// and boxes each one in an interface, which took about a sixth of the
// runner's CPU on an initial load. The column types are asked of the
// server as pgx does (one describe); a column of a type not listed here
// (a DBA's change) makes copyRows return errNoBinaryPlan, and the caller
// falls back to pgx.

var errNoBinaryPlan = errors.New("postgres sink: a column type the binary COPY does not encode")

// copyRows copies n rows into table's columns names; row(i, put) hands
// the values of row i to put, in column order.
func copyRows(ctx context.Context, tx pgx.Tx, table, names []string, n int, row func(i int, put func(record.Value) error) error) (int64, error) {
	quoted := make([]string, len(names))
	for i, c := range names {
		quoted[i] = ident(c)
	}
	target := pgx.Identifier(table).Sanitize()
	sd, err := tx.Conn().PgConn().Prepare(ctx, "", "SELECT "+strings.Join(quoted, ", ")+" FROM "+target, nil)
	if err != nil {
		return 0, err
	}
	oids := make([]uint32, len(sd.Fields))
	for i, f := range sd.Fields {
		if !binaryOID(f.DataTypeOID) {
			return 0, errNoBinaryPlan
		}
		oids[i] = f.DataTypeOID
	}
	r := &copyReader{oids: oids, n: n, row: row}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, r, "COPY "+target+" ("+strings.Join(quoted, ", ")+") FROM STDIN (FORMAT binary)")
	if r.err != nil {
		// The stream stopped at a value it could not encode: that row's fault.
		return 0, r.err
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func binaryOID(oid uint32) bool {
	switch oid {
	case pgtype.UUIDOID, pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID, pgtype.NumericOID, pgtype.Float8OID, pgtype.Float4OID,
		pgtype.BoolOID, pgtype.TimestampOID, pgtype.TimestamptzOID, pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
		return true
	}
	return false
}

// copyReader renders rows as the COPY binary stream, about 64 KiB at a
// time, as the connection reads it.
type copyReader struct {
	oids []uint32
	n    int
	row  func(i int, put func(record.Value) error) error
	i    int // next row
	buf  []byte
	off  int
	end  bool // trailer written
	err  error
}

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (r *copyReader) Read(p []byte) (int, error) {
	for r.off == len(r.buf) {
		if r.end || r.err != nil {
			return 0, io.EOF
		}
		r.buf, r.off = r.buf[:0], 0
		if r.i == 0 {
			r.buf = append(r.buf, copyHeader...)
		}
		for len(r.buf) < 64<<10 && r.i < r.n {
			if err := r.encodeRow(); err != nil {
				// Ends the stream early: the server sees a truncated COPY
				// and the caller reports r.err, not the server's error.
				r.err = err
				return 0, err
			}
		}
		if r.i == r.n {
			r.buf = binary.BigEndian.AppendUint16(r.buf, 0xffff)
			r.end = true
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

func (r *copyReader) encodeRow() error {
	i := r.i
	r.i++
	r.buf = binary.BigEndian.AppendUint16(r.buf, uint16(len(r.oids)))
	col := 0
	err := r.row(i, func(v record.Value) error {
		if col >= len(r.oids) {
			return fmt.Errorf("more values than the %d columns", len(r.oids))
		}
		var err error
		r.buf, err = appendBinary(r.buf, r.oids[col], v)
		col++
		return err
	})
	if err == nil && col != len(r.oids) {
		err = fmt.Errorf("%d values for %d columns", col, len(r.oids))
	}
	if err != nil {
		return &sink.FailedAt{Index: i, Err: errclass.With(errclass.Record, err)}
	}
	return nil
}

// y2k is PostgreSQL's timestamp epoch, in Unix microseconds.
const y2k = 946684800 * 1_000_000

// appendBinary appends v as one field (length, then the binary form of
// oid).
func appendBinary(b []byte, oid uint32, v record.Value) ([]byte, error) {
	if v.Kind == record.Null {
		return binary.BigEndian.AppendUint32(b, 0xffffffff), nil
	}
	mismatch := func() ([]byte, error) { return nil, fmt.Errorf("a %s value for a column of type OID %d", v.Kind, oid) }
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
		if v.Kind != record.String && v.Kind != record.GUID && v.Kind != record.Decimal {
			return mismatch()
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v.S)))
		return append(b, v.S...), nil
	case pgtype.UUIDOID:
		if v.Kind != record.GUID {
			return mismatch()
		}
		u, err := uuidOf(v.S)
		if err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint32(b, 16)
		return append(b, u.Bytes[:]...), nil
	case pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID:
		if v.Kind != record.Int {
			return mismatch()
		}
		switch oid {
		case pgtype.Int8OID:
			b = binary.BigEndian.AppendUint32(b, 8)
			return binary.BigEndian.AppendUint64(b, uint64(v.I)), nil
		case pgtype.Int4OID:
			if v.I < math.MinInt32 || v.I > math.MaxInt32 {
				return nil, fmt.Errorf("%d is out of range for type integer", v.I)
			}
			b = binary.BigEndian.AppendUint32(b, 4)
			return binary.BigEndian.AppendUint32(b, uint32(int32(v.I))), nil
		}
		if v.I < math.MinInt16 || v.I > math.MaxInt16 {
			return nil, fmt.Errorf("%d is out of range for type smallint", v.I)
		}
		b = binary.BigEndian.AppendUint32(b, 2)
		return binary.BigEndian.AppendUint16(b, uint16(int16(v.I))), nil
	case pgtype.NumericOID:
		if v.Kind != record.Decimal {
			return mismatch()
		}
		at := len(b)
		b, err := appendNumeric(binary.BigEndian.AppendUint32(b, 0), v.S)
		if err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
		return b, nil
	case pgtype.Float8OID:
		if v.Kind != record.Float {
			return mismatch()
		}
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(v.I)), nil
	case pgtype.Float4OID:
		if v.Kind != record.Float {
			return mismatch()
		}
		b = binary.BigEndian.AppendUint32(b, 4)
		return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(v.Float()))), nil
	case pgtype.BoolOID:
		if v.Kind != record.Bool {
			return mismatch()
		}
		b = binary.BigEndian.AppendUint32(b, 1)
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		if v.Kind != record.DateTime && v.Kind != record.Date {
			return mismatch()
		}
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint64(b, uint64(microsSinceY2K(v.Time()))), nil
	}
	return mismatch()
}

// microsSinceY2K is t (as UTC) in PostgreSQL's binary timestamp form,
// truncated to the microsecond as pgx does.
func microsSinceY2K(t time.Time) int64 {
	t = t.UTC()
	return t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - y2k
}
