package sync

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dataexport/dataexport/internal/record"
)

// A unit stored in Blob storage is binary, not JSON: the applier decoded
// a 5,000-row page of JSON in about 25 ms and the poller encoded it in
// about 10, a third of the pipeline's own CPU per page; this form takes a
// few milliseconds each way and compresses smaller. Queue messages stay
// JSON (they are small, and operators read them).
//
// Layout, after unitMagic and the format version:
//
//	uvarint len, header: the envelope as a JSON message (Message.Encode
//	    without records), so its fields are read and checked as a
//	    message's are
//	uvarint columns, each: uvarint len, name, kind byte
//	uvarint upserts, each: 36-byte id, zigzag version, then per column a
//	    kind byte (0: null; else the column's kind) and the value:
//	    string, guid, decimal: uvarint len, bytes; int: zigzag varint;
//	    float: 8 bytes little endian; bool: 1 byte; datetime: zigzag Unix
//	    seconds, uvarint nanoseconds; date: zigzag days since 1970-01-01
//	uvarint deletes, each: 36-byte id, zigzag version
//
// Nothing may follow. Every field is checked as the JSON form's are, and a
// body that breaks a rule is a *MalformedError naming it.
const (
	unitMagic   = "\x00DXU"
	unitVersion = 1
)

// isUnit reports whether body is in the binary unit form.
func isUnit(body []byte) bool {
	return len(body) > len(unitMagic) && string(body[:len(unitMagic)]) == unitMagic
}

// EncodeUnit renders m in the binary unit form.
func (m *Message) EncodeUnit() []byte { return m.AppendUnit(nil) }

// AppendUnit appends the binary form of m to dst.
func (m *Message) AppendUnit(dst []byte) []byte {
	env := m.envelope()
	env.Claim, env.Attempt, env.Waits = m.Claim, m.Attempt, m.Waits
	header := env.Encode()
	n := 64 + len(header) + len(m.Batch.Deletes)*48
	for i := range m.Batch.Upserts {
		n += 48
		for _, v := range m.Batch.Upserts[i].Values {
			n += 12 + len(v.S) // sized once: growing a page's buffer copies it again and again
		}
	}
	b := slices.Grow(dst, n)
	b = append(b, unitMagic...)
	b = append(b, unitVersion)
	b = appendBytes(b, header)
	b = binary.AppendUvarint(b, uint64(len(m.Batch.Columns)))
	for _, c := range m.Batch.Columns {
		b = appendBytes(b, []byte(c.Name))
		b = append(b, byte(c.Kind))
	}
	b = binary.AppendUvarint(b, uint64(len(m.Batch.Upserts)))
	for i := range m.Batch.Upserts {
		r := &m.Batch.Upserts[i]
		b = appendUnitID(b, r.ID)
		b = binary.AppendVarint(b, r.Version)
		for _, v := range r.Values {
			b = appendUnitValue(b, v)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(m.Batch.Deletes)))
	for _, d := range m.Batch.Deletes {
		b = appendUnitID(b, d.ID)
		b = binary.AppendVarint(b, d.Version)
	}
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendText(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // as the JSON form: invalid bytes become U+FFFD
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendUnitID writes an id in its fixed 36 bytes; one of another length
// (never produced by the decoders) is padded or cut, and refused on decode.
func appendUnitID(b []byte, id string) []byte {
	var fixed [36]byte
	copy(fixed[:], id)
	if len(id) != 36 {
		fixed[0] = '!'
	}
	return append(b, fixed[:]...)
}

func appendUnitValue(b []byte, v record.Value) []byte {
	switch v.Kind {
	case record.String, record.GUID, record.Decimal:
		b = append(b, byte(v.Kind))
		return appendText(b, v.S)
	case record.Int:
		b = append(b, byte(v.Kind))
		return binary.AppendVarint(b, v.I)
	case record.Float:
		b = append(b, byte(v.Kind))
		return binary.LittleEndian.AppendUint64(b, uint64(v.I))
	case record.Bool:
		b = append(b, byte(v.Kind))
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case record.DateTime:
		b = append(b, byte(v.Kind))
		t := v.Time()
		b = binary.AppendVarint(b, t.Unix())
		return binary.AppendUvarint(b, uint64(t.Nanosecond()))
	case record.Date:
		b = append(b, byte(v.Kind))
		return binary.AppendVarint(b, v.I/secondsPerDay) // midnight UTC: a whole number of days
	}
	return append(b, byte(record.Null))
}

const secondsPerDay = 24 * 60 * 60

// unitReader reads the binary form. Strings are cut from one copy of the
// body (text), so a page costs one allocation for all its text.
type unitReader struct {
	text string
	off  int
}

func (r *unitReader) fail(format string, args ...any) error {
	return &MalformedError{Reason: fmt.Sprintf("unit at byte %d: ", r.off) + fmt.Sprintf(format, args...)}
}

func (r *unitReader) uvarint(what string) (uint64, error) {
	v, n := uvarintString(r.text[r.off:])
	if n <= 0 {
		return 0, r.fail("%s: bad or truncated number", what)
	}
	r.off += n
	return v, nil
}

func (r *unitReader) varint(what string) (int64, error) {
	u, err := r.uvarint(what)
	return int64(u>>1) ^ -int64(u&1), err
}

// count reads a length that must fit in what is left, each item taking at
// least min bytes: a corrupt count cannot make the decoder allocate more
// than the body's size.
func (r *unitReader) count(what string, min int) (int, error) {
	n, err := r.uvarint(what)
	if err != nil {
		return 0, err
	}
	if left := uint64(len(r.text) - r.off); n > left/uint64(max(min, 1)) {
		return 0, r.fail("%s: %d items cannot fit in the %d bytes left (truncated or corrupt)", what, n, left)
	}
	return int(n), nil
}

func (r *unitReader) bytes(n int, what string) (string, error) {
	if n > len(r.text)-r.off {
		return "", r.fail("%s: truncated", what)
	}
	s := r.text[r.off : r.off+n]
	r.off += n
	return s, nil
}

// text1 reads a length and that many bytes. Most texts are shorter than
// 128 bytes, their length one byte: that case is read here directly.
func (r *unitReader) text1(what string) (string, error) {
	if r.off < len(r.text) && r.text[r.off] < 0x80 {
		r.off++
		return r.bytes(int(r.text[r.off-1]), what)
	}
	n, err := r.count(what, 1)
	if err != nil {
		return "", err
	}
	return r.bytes(n, what)
}

// uvarintString is binary.Uvarint over a string, without a copy.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// decodeUnit parses the binary form; the message's texts are cut from body.
func decodeUnit(body string) (*Message, error) {
	r := &unitReader{text: body, off: len(unitMagic)}
	if v := r.text[r.off]; v != unitVersion {
		return nil, &MalformedError{Reason: fmt.Sprintf("unsupported unit version %d (want %d)", v, unitVersion)}
	}
	r.off++
	header, err := r.text1("header")
	if err != nil {
		return nil, err
	}
	m, err := decodeMessage([]byte(header))
	if err != nil {
		return nil, renamedHeader(err)
	}
	if len(m.Batch.Columns)+len(m.Batch.Upserts)+len(m.Batch.Deletes) > 0 {
		return nil, &MalformedError{Reason: "unit header carries records"}
	}
	if m.Batch.Columns, err = r.columns(); err != nil {
		return nil, err
	}
	if m.Batch.Upserts, err = r.upserts(m.Batch.Columns); err != nil {
		return nil, err
	}
	if m.Batch.Deletes, err = r.deletes(); err != nil {
		return nil, err
	}
	switch {
	case r.off != len(r.text):
		return nil, r.fail("%d bytes after the deletes", len(r.text)-r.off)
	case m.Claim != "" && len(m.Batch.Upserts)+len(m.Batch.Deletes) > 0:
		return nil, &MalformedError{Reason: `a "claim" message carries records of its own`}
	case m.Kind == KindBackfill && len(m.Batch.Deletes) > 0:
		return nil, &MalformedError{Reason: `a "backfill" message carries deletes`}
	}
	return m, nil
}

func renamedHeader(err error) error {
	if me, ok := err.(*MalformedError); ok {
		return &MalformedError{Reason: "unit header: " + me.Reason, Err: me.Err}
	}
	return &MalformedError{Reason: "unit header: invalid JSON", Err: err}
}

func (r *unitReader) columns() ([]record.Column, error) {
	n, err := r.count("columns", 2)
	if err != nil || n == 0 {
		return nil, err
	}
	cols := make([]record.Column, 0, n)
	seen := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		name, err := r.text1("column name")
		if err != nil {
			return nil, err
		}
		k, err := r.bytes(1, "column kind")
		if err != nil {
			return nil, err
		}
		kind := record.Kind(k[0])
		if kind == record.Null || kind > record.GUID {
			return nil, r.fail("column %q has unknown kind %d", name, k[0])
		}
		if name == "" || seen[name] || !utf8.ValidString(name) {
			return nil, r.fail("column name %q is empty, repeated or not UTF-8", name)
		}
		seen[name] = true
		// A copy: caches keep column names, which must not pin the page.
		cols = append(cols, record.Column{Name: strings.Clone(name), Kind: kind})
	}
	return cols, nil
}

func (r *unitReader) id(list string, i int) (string, int64, error) {
	if len(r.text)-r.off < 36 {
		return "", 0, r.fail("%s[%d] id: truncated", list, i)
	}
	id := r.text[r.off : r.off+36]
	r.off += 36
	if err := checkID(id, list, i); err != nil {
		return "", 0, err
	}
	ver, err := r.varint("version")
	return id, ver, err
}

func (r *unitReader) upserts(cols []record.Column) ([]record.Record, error) {
	n, err := r.count("upserts", 37+len(cols))
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]record.Record, n)
	slab := make([]record.Value, n*len(cols))
	for i := range out {
		id, ver, err := r.id("upserts", i)
		if err != nil {
			return nil, err
		}
		vals := slab[i*len(cols) : (i+1)*len(cols) : (i+1)*len(cols)]
		for j, c := range cols {
			if vals[j], err = r.value(c.Kind); err != nil {
				return nil, &MalformedError{Reason: fmt.Sprintf("upserts[%d] column %q", i, c.Name), Err: err}
			}
		}
		out[i] = record.Record{ID: id, Version: ver, Values: vals}
	}
	return out, nil
}

func (r *unitReader) value(k record.Kind) (record.Value, error) {
	b, err := r.bytes(1, "value kind")
	if err != nil {
		return record.Value{}, err
	}
	switch tag := record.Kind(b[0]); tag {
	case record.Null:
		return record.Value{}, nil
	case k:
	default:
		return record.Value{}, fmt.Errorf("expected a %v value, found a %v value", k, tag)
	}
	switch k {
	case record.String, record.GUID, record.Decimal:
		s, err := r.text1("text")
		switch {
		case err != nil:
			return record.Value{}, err
		case k == record.GUID && !isGUID(s):
			return record.Value{}, fmt.Errorf("%q is not a lowercase GUID", s)
		case k == record.Decimal && !isDecimal(s):
			return record.Value{}, fmt.Errorf("%q is not a decimal number", s)
		case k == record.String && !utf8.ValidString(s):
			return record.Value{}, fmt.Errorf("text is not UTF-8")
		}
		return record.Value{Kind: k, S: s}, nil
	case record.Int:
		n, err := r.varint("int")
		return record.IntValue(n), err
	case record.Float:
		s, err := r.bytes(8, "float")
		if err != nil {
			return record.Value{}, err
		}
		var bits uint64
		for i := 7; i >= 0; i-- {
			bits = bits<<8 | uint64(s[i])
		}
		f := math.Float64frombits(bits)
		if math.IsInf(f, 0) || math.IsNaN(f) { // JSON has no such number
			return record.Value{}, fmt.Errorf("float %v is not finite", f)
		}
		return record.FloatValue(f), nil
	case record.Bool:
		b, err := r.bytes(1, "bool")
		if err != nil {
			return record.Value{}, err
		}
		if b[0] > 1 {
			return record.Value{}, fmt.Errorf("bool byte %d", b[0])
		}
		return record.BoolValue(b[0] == 1), nil
	case record.DateTime:
		sec, err := r.varint("datetime seconds")
		if err != nil {
			return record.Value{}, err
		}
		ns, err := r.uvarint("datetime nanoseconds")
		if err != nil {
			return record.Value{}, err
		}
		if ns >= 1e9 {
			return record.Value{}, fmt.Errorf("datetime nanoseconds %d", ns)
		}
		t := time.Unix(sec, int64(ns)).UTC()
		if y := t.Year(); y < 0 || y > 9999 { // what RFC 3339 writes
			return record.Value{}, fmt.Errorf("datetime %s is out of range", t.Format(time.RFC3339Nano))
		}
		return record.DateTimeValue(t), nil
	case record.Date:
		days, err := r.varint("date")
		if err != nil {
			return record.Value{}, err
		}
		if days < -1e7 || days > 1e7 { // about ±27,000 years
			return record.Value{}, fmt.Errorf("date %d days from 1970 is out of range", days)
		}
		t := time.Unix(days*secondsPerDay, 0).UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			return record.Value{}, fmt.Errorf("date %s is out of range", t.Format(time.DateOnly))
		}
		return record.DateValue(t), nil
	}
	return record.Value{}, fmt.Errorf("kind %v", k)
}

func (r *unitReader) deletes() ([]record.Delete, error) {
	n, err := r.count("deletes", 37)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]record.Delete, n)
	for i := range out {
		id, ver, err := r.id("deletes", i)
		if err != nil {
			return nil, err
		}
		out[i] = record.Delete{ID: id, Version: ver}
	}
	return out, nil
}

// isDecimal reports whether s is a JSON number, what the JSON form accepts
// for a decimal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - start
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
