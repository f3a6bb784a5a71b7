// Package sync holds the replication logic between the Dataverse client and
// the sink: the change poller, the record applier and the batch message that
// travels between them. It knows nothing of HTTP or the Functions host.
package sync

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/dataexport/dataexport/internal/record"
)

// MessageVersion is the "v" of every message this code writes.
const MessageVersion = 1

// Kind says which read produced a message.
type Kind string

const (
	KindInitial Kind = "initial" // a page of the initial full read
	KindDelta   Kind = "delta"   // a page of a change-tracking delta read
	KindResync  Kind = "resync"  // records re-sent by a resync
	// KindBackfill: rows read again, at their own version, for columns
	// added to the table after they were read; applied with
	// record.Batch.Overwrite so that they fill a row of the same version.
	KindBackfill Kind = "backfill"
)

// Message is one batch of changes to one entity of one profile: the unit the
// poller enqueues and the applier applies. The JSON form is small and
// self-describing (columns carry their kinds), so the applier needs no metadata
// to decode it:
//
//	{"v":1,"id":"…","profile":"p","entity":"account","kind":"delta","page":3,"part":0,
//	 "schema":"1764700000123.0123456789abcdef",
//	 "columns":[["accountid","guid"],["name","string"]],
//	 "upserts":[["<id>",1234,["<guid>","Contoso"]]],
//	 "deletes":[["<id>",1240]]}
type Message struct {
	ID      string // unique per (read, page, part): producers use it for dedupe
	Profile string
	Entity  string
	Kind    Kind
	Page    int64 // page number within the read
	Part    int   // part of the page, when one page did not fit one message
	Batch   record.Batch
	// Claim, when set, names the blob holding the whole message (claim
	// check): the body was larger than the transport carries. A claim
	// message has no columns, upserts or deletes of its own.
	Claim string
	// Attempt counts the failed applies of this batch before this copy was
	// sent again (0: the poller's original).
	Attempt int
	// Waits counts the times this batch was sent again because the
	// destination could not take it (unreachable, schema behind, settings):
	// those do not count as attempts, and set the next wait's length.
	Waits int
	// ProfileVersion is the Revision of the profile the poller read (random
	// per save, never derived from the profile's content): an applier
	// holding another revision reads the profile again.
	ProfileVersion string
	// Schema is the fingerprint of the table the rows were read for (see
	// Fingerprint): an applier finding the table behind it waits for the
	// SchemaChange function. "" (messages from before, resyncs): applied
	// as the table is.
	Schema string
}

// envelope is m's identity (id, profile and its version, entity, kind,
// page, part) without its records, claim or attempt count: the start of a
// message that carries part or all of m in another form.
func (m *Message) envelope() Message {
	return Message{ID: m.ID, Profile: m.Profile, ProfileVersion: m.ProfileVersion, Schema: m.Schema, Entity: m.Entity, Kind: m.Kind, Page: m.Page, Part: m.Part}
}

// MalformedError says a message body cannot be understood; retrying it cannot help.
type MalformedError struct {
	Reason string
	Err    error
}

func (e *MalformedError) Error() string {
	if e.Err != nil {
		return "malformed message: " + e.Reason + ": " + e.Err.Error()
	}
	return "malformed message: " + e.Reason
}
func (e *MalformedError) Unwrap() error { return e.Err }

// Encode renders m as JSON.
func (m *Message) Encode() []byte { return m.encode(0) }

// encode renders m as JSON. With a limit, it returns nil as soon as the
// body would be longer: a 5,000-row page is not rendered whole just to
// learn that it does not fit a queue message.
func (m *Message) encode(limit int) []byte {
	// About 25 bytes per value for a typical wide entity; append grows the
	// rare page of long texts. Over-sizing costs a page's worth of memory.
	size := 256 + len(m.Batch.Upserts)*(64+26*len(m.Batch.Columns)) + len(m.Batch.Deletes)*56
	if limit > 0 {
		size = min(size, limit+1024)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, MessageVersion, 10)
	b = appendField(b, "id", m.ID)
	b = appendField(b, "profile", m.Profile)
	b = appendField(b, "entity", m.Entity)
	b = appendField(b, "kind", string(m.Kind))
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, m.Page, 10)
	b = append(b, `,"part":`...)
	b = strconv.AppendInt(b, int64(m.Part), 10)
	if m.Claim != "" {
		b = appendField(b, "claim", m.Claim)
	}
	if m.ProfileVersion != "" {
		b = appendField(b, "pv", m.ProfileVersion)
	}
	if m.Schema != "" {
		b = appendField(b, "schema", m.Schema)
	}
	if m.Attempt > 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(m.Attempt), 10)
	}
	if m.Waits > 0 {
		b = append(b, `,"waits":`...)
		b = strconv.AppendInt(b, int64(m.Waits), 10)
	}
	b = append(b, `,"columns":[`...)
	for i, c := range m.Batch.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendString(b, c.Name)
		b = append(b, ',')
		b = appendString(b, c.Kind.String())
		b = append(b, ']')
	}
	b = append(b, `],"upserts":[`...)
	for i := range m.Batch.Upserts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, &m.Batch.Upserts[i])
		if limit > 0 && len(b) > limit {
			return nil
		}
	}
	b = append(b, `],"deletes":[`...)
	for i, d := range m.Batch.Deletes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendString(b, d.ID)
		b = append(b, ',')
		b = strconv.AppendInt(b, d.Version, 10)
		b = append(b, ']')
	}
	b = append(b, "]}"...)
	if limit > 0 && len(b) > limit {
		return nil
	}
	return b
}

func appendRecord(b []byte, r *record.Record) []byte {
	b = append(b, '[')
	b = appendString(b, r.ID)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Version, 10)
	b = append(b, ",["...)
	for i, v := range r.Values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendValue(b, v)
	}
	return append(b, "]]"...)
}

// EncodedRecordSize is the number of bytes r adds to an encoded message.
func EncodedRecordSize(r *record.Record) int {
	return len(appendRecord(nil, r)) + 1
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ':')
	return appendString(b, value)
}

func appendString(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}

func appendValue(b []byte, v record.Value) []byte {
	switch v.Kind {
	case record.String, record.GUID:
		return appendString(b, v.S)
	case record.Decimal:
		// Exact decimal text as a JSON number; checked on decode.
		return append(b, v.S...)
	case record.Int:
		return strconv.AppendInt(b, v.I, 10)
	case record.Float:
		return strconv.AppendFloat(b, v.Float(), 'g', -1, 64)
	case record.Bool:
		return strconv.AppendBool(b, v.Bool())
	case record.DateTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	case record.Date:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.DateOnly)
		return append(b, '"')
	}
	return append(b, "null"...)
}

// DecodeMessage parses a message body. Any error is a *MalformedError naming
// what is wrong; nothing partial is returned.
func DecodeMessage(body []byte) (*Message, error) {
	if isUnit(body) {
		return decodeUnit(string(body))
	}
	return decodeJSONMessage(body)
}

// decodeOwned is DecodeMessage for a body that nothing changes afterwards:
// a unit's texts refer to body instead of a copy of it.
func decodeOwned(body []byte) (*Message, error) {
	if isUnit(body) {
		return decodeUnit(unsafe.String(unsafe.SliceData(body), len(body)))
	}
	return decodeJSONMessage(body)
}

func decodeJSONMessage(body []byte) (*Message, error) {
	m, err := decodeMessage(body)
	if err != nil {
		var me *MalformedError
		if errors.As(err, &me) {
			return nil, err
		}
		return nil, &MalformedError{Reason: "invalid JSON", Err: err}
	}
	return m, nil
}

func decodeMessage(body []byte) (*Message, error) {
	d := jsontext.NewDecoder(bytes.NewReader(body))
	if err := expect(d, '{'); err != nil {
		return nil, err
	}
	m := &Message{}
	var version int64
	seenVersion := false
	var rawUpserts jsontext.Value
	seenColumns := false
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, err
		}
		name := tok.String()
		switch name {
		case "v":
			if version, err = readInt(d, "v"); err != nil {
				return nil, err
			}
			seenVersion = true
		case "id":
			m.ID, err = readString(d, name)
		case "profile":
			m.Profile, err = readString(d, name)
		case "entity":
			m.Entity, err = readString(d, name)
		case "kind":
			var k string
			k, err = readString(d, name)
			m.Kind = Kind(k)
		case "page":
			m.Page, err = readInt(d, name)
		case "part":
			var p int64
			p, err = readInt(d, name)
			m.Part = int(p)
		case "columns":
			m.Batch.Columns, err = readColumns(d)
			seenColumns = true
		case "upserts":
			if seenColumns {
				// The encoder writes columns first: decode the rows in the
				// same pass, without holding their text twice.
				m.Batch.Upserts, err = readUpserts(d, m.Batch.Columns)
				break
			}
			// Columns may follow upserts in hand-written bodies; decode rows afterwards.
			rawUpserts, err = d.ReadValue()
			rawUpserts = bytes.Clone(rawUpserts)
		case "deletes":
			m.Batch.Deletes, err = readDeletes(d)
		case "claim":
			m.Claim, err = readString(d, name)
		case "pv":
			m.ProfileVersion, err = readString(d, name)
		case "schema":
			m.Schema, err = readString(d, name)
		case "attempt":
			var a int64
			a, err = readInt(d, name)
			m.Attempt = int(a)
		case "waits":
			var w int64
			w, err = readInt(d, name)
			m.Waits = int(w)
		default:
			err = d.SkipValue()
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, err
	}
	switch {
	case !seenVersion:
		return nil, &MalformedError{Reason: `message has no version field "v"`}
	case version != MessageVersion:
		return nil, &MalformedError{Reason: fmt.Sprintf("unsupported message version %d (want %d)", version, MessageVersion)}
	case m.Profile == "":
		return nil, &MalformedError{Reason: `message has no "profile"`}
	case m.Entity == "":
		return nil, &MalformedError{Reason: `message has no "entity"`}
	case m.Kind == "":
		return nil, &MalformedError{Reason: `message has no "kind"`}
	case m.Kind != KindInitial && m.Kind != KindDelta && m.Kind != KindResync && m.Kind != KindBackfill:
		return nil, &MalformedError{Reason: fmt.Sprintf("unknown kind %q", m.Kind)}
	case len(rawUpserts) > 0 && !seenColumns:
		return nil, &MalformedError{Reason: `"upserts" without "columns"`}
	case m.Claim != "" && (len(rawUpserts) > 2 || len(m.Batch.Upserts) > 0 || len(m.Batch.Deletes) > 0):
		return nil, &MalformedError{Reason: `a "claim" message carries records of its own`}
	}
	if _, err := ParseFingerprint(m.Schema); err != nil {
		return nil, &MalformedError{Reason: `"schema"`, Err: err}
	}
	m.Batch.Entity = m.Entity
	m.Batch.Overwrite = m.Kind == KindBackfill
	if len(rawUpserts) > 0 {
		ups, err := readUpserts(jsontext.NewDecoder(bytes.NewReader(rawUpserts)), m.Batch.Columns)
		if err != nil {
			return nil, err
		}
		m.Batch.Upserts = ups
	}
	if m.Kind == KindBackfill && len(m.Batch.Deletes) > 0 {
		return nil, &MalformedError{Reason: `a "backfill" message carries deletes`}
	}
	return m, nil
}

// namedProfile reads the top-level "profile" of a body that may not be a
// valid message (an unknown version, a broken record, a truncated body):
// the tokens are read up to that field or the first syntax error. "" when
// the body names none.
func namedProfile(body []byte) string {
	if isUnit(body) {
		r := &unitReader{text: string(body), off: len(unitMagic) + 1}
		header, err := r.text1("header")
		if err != nil {
			return ""
		}
		body = []byte(header)
	}
	d := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return ""
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil || tok.Kind() != '"' {
			return ""
		}
		if tok.String() != "profile" {
			if err := d.SkipValue(); err != nil {
				return ""
			}
			continue
		}
		v, err := d.ReadToken()
		if err != nil || v.Kind() != '"' {
			return ""
		}
		return v.String()
	}
	return ""
}

func expect(d *jsontext.Decoder, kind jsontext.Kind) error {
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != kind {
		return &MalformedError{Reason: fmt.Sprintf("expected %v, found %v at offset %d", kind, tok.Kind(), d.InputOffset())}
	}
	return nil
}

func readString(d *jsontext.Decoder, field string) (string, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return "", err
	}
	if tok.Kind() != '"' {
		return "", &MalformedError{Reason: fmt.Sprintf("%q must be a string", field)}
	}
	return tok.String(), nil
}

func readInt(d *jsontext.Decoder, field string) (int64, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return 0, err
	}
	if tok.Kind() != '0' {
		return 0, &MalformedError{Reason: fmt.Sprintf("%q must be a number", field)}
	}
	n, err := strconv.ParseInt(tok.String(), 10, 64)
	if err != nil {
		return 0, &MalformedError{Reason: fmt.Sprintf("%q must be an integer", field), Err: err}
	}
	return n, nil
}

func readColumns(d *jsontext.Decoder) ([]record.Column, error) {
	if err := expect(d, '['); err != nil {
		return nil, err
	}
	var cols []record.Column
	seen := map[string]bool{}
	for d.PeekKind() != ']' {
		if err := expect(d, '['); err != nil {
			return nil, err
		}
		name, err := readString(d, "columns[].name")
		if err != nil {
			return nil, err
		}
		ks, err := readString(d, "columns[].kind")
		if err != nil {
			return nil, err
		}
		k, err := record.ParseKind(ks)
		if err != nil || k == record.Null {
			return nil, &MalformedError{Reason: fmt.Sprintf("column %q has unknown kind %q", name, ks)}
		}
		if name == "" || seen[name] {
			return nil, &MalformedError{Reason: fmt.Sprintf("column name %q is empty or repeated", name)}
		}
		seen[name] = true
		if err := expect(d, ']'); err != nil {
			return nil, err
		}
		cols = append(cols, record.Column{Name: name, Kind: k})
	}
	_, err := d.ReadToken()
	return cols, err
}

func readUpserts(d *jsontext.Decoder, cols []record.Column) ([]record.Record, error) {
	if err := expect(d, '['); err != nil {
		return nil, err
	}
	var out []record.Record
	for d.PeekKind() != ']' {
		i := len(out)
		if err := expect(d, '['); err != nil {
			return nil, err
		}
		id, err := readString(d, "")
		if err != nil {
			return nil, renamed(err, fmt.Sprintf("upserts[%d].id", i))
		}
		ver, err := readInt(d, "")
		if err != nil {
			return nil, renamed(err, fmt.Sprintf("upserts[%d].version", i))
		}
		if err := checkID(id, "upserts", i); err != nil {
			return nil, err
		}
		if err := expect(d, '['); err != nil {
			return nil, err
		}
		vals := make([]record.Value, 0, len(cols))
		for d.PeekKind() != ']' {
			j := len(vals)
			if j >= len(cols) {
				return nil, &MalformedError{Reason: fmt.Sprintf("upserts[%d] has more values than the %d columns", i, len(cols))}
			}
			tok, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(tok, cols[j].Kind)
			if err != nil {
				return nil, &MalformedError{Reason: fmt.Sprintf("upserts[%d] column %q", i, cols[j].Name), Err: err}
			}
			vals = append(vals, v)
		}
		if len(vals) != len(cols) {
			return nil, &MalformedError{Reason: fmt.Sprintf("upserts[%d] has %d values for %d columns", i, len(vals), len(cols))}
		}
		if _, err := d.ReadToken(); err != nil { // ] of values
			return nil, err
		}
		if err := expect(d, ']'); err != nil {
			return nil, err
		}
		out = append(out, record.Record{ID: id, Version: ver, Values: vals})
	}
	_, err := d.ReadToken() // ] of the list
	return out, err
}

func readDeletes(d *jsontext.Decoder) ([]record.Delete, error) {
	if err := expect(d, '['); err != nil {
		return nil, err
	}
	var out []record.Delete
	for d.PeekKind() != ']' {
		i := len(out)
		if err := expect(d, '['); err != nil {
			return nil, err
		}
		id, err := readString(d, "")
		if err != nil {
			return nil, renamed(err, fmt.Sprintf("deletes[%d].id", i))
		}
		ver, err := readInt(d, "")
		if err != nil {
			return nil, renamed(err, fmt.Sprintf("deletes[%d].version", i))
		}
		if err := checkID(id, "deletes", i); err != nil {
			return nil, err
		}
		if err := expect(d, ']'); err != nil {
			return nil, err
		}
		out = append(out, record.Delete{ID: id, Version: ver})
	}
	_, err := d.ReadToken() // ] of the list
	return out, err
}

// renamed puts the field's name into an error of readString or readInt
// called without one: the name is formatted only when something is wrong.
func renamed(err error, field string) error {
	var me *MalformedError
	if errors.As(err, &me) {
		return &MalformedError{Reason: strings.Replace(me.Reason, `""`, strconv.Quote(field), 1), Err: me.Err}
	}
	return err
}

func checkID(id, list string, i int) error {
	if !isGUID(id) {
		return &MalformedError{Reason: fmt.Sprintf("%s[%d] id %q is not a lowercase GUID", list, i, id)}
	}
	return nil
}

func isGUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	// Every other byte a lowercase hex digit, by table: two GUIDs per row
	// of every unit are checked.
	var bad byte
	for i := 0; i < 36; i++ {
		if i != 8 && i != 13 && i != 18 && i != 23 {
			bad |= notHex[s[i]]
		}
	}
	return bad == 0
}

// notHex is 1 for the bytes that are not lowercase hex digits.
var notHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 0
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = 0
	}
	return t
}()

func decodeValue(tok jsontext.Token, k record.Kind) (record.Value, error) {
	if tok.Kind() == 'n' {
		return record.Value{}, nil
	}
	switch k {
	case record.String:
		if tok.Kind() == '"' {
			return record.StringValue(tok.String()), nil
		}
	case record.GUID:
		if tok.Kind() == '"' && isGUID(tok.String()) {
			return record.GUIDValue(tok.String()), nil
		}
	case record.Decimal:
		if tok.Kind() == '0' {
			return record.DecimalValue(tok.String()), nil
		}
	case record.Int:
		if tok.Kind() == '0' {
			n, err := strconv.ParseInt(tok.String(), 10, 64)
			if err != nil {
				return record.Value{}, err
			}
			return record.IntValue(n), nil
		}
	case record.Float:
		if tok.Kind() == '0' {
			f, err := strconv.ParseFloat(tok.String(), 64)
			if err != nil {
				return record.Value{}, err
			}
			return record.FloatValue(f), nil
		}
	case record.Bool:
		if tok.Kind() == 't' || tok.Kind() == 'f' {
			return record.BoolValue(tok.Bool()), nil
		}
	case record.DateTime:
		if tok.Kind() == '"' {
			t, err := time.Parse(time.RFC3339Nano, tok.String())
			if err != nil {
				return record.Value{}, err
			}
			return record.DateTimeValue(t), nil
		}
	case record.Date:
		if tok.Kind() == '"' {
			t, err := time.Parse(time.DateOnly, tok.String())
			if err != nil {
				return record.Value{}, err
			}
			return record.DateValue(t), nil
		}
	}
	return record.Value{}, fmt.Errorf("expected a %v value, found a JSON %v", k, tok.Kind())
}
