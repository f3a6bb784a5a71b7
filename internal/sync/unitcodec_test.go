package sync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/record"
)

// A unit decodes to exactly the message the JSON form decodes to: same
// envelope, same typed values, same validation.
func TestUnitCodecRoundTrip(t *testing.T) {
	full := sampleMessage()
	full.ProfileVersion, full.Schema = "6b86b273ff34fce1", "1764700000123.0123456789abcdef"
	edge := full.Batch.Upserts[0]
	edge.ID, edge.Version = "60c4e274-0d87-e711-80e5-00155db19e6f", -1
	edge.Values = []record.Value{
		record.GUIDValue(edge.ID), record.StringValue(""), record.DecimalValue("-0.5e-3"),
		record.IntValue(math.MinInt64), record.BoolValue(false), record.DateTimeValue(time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)),
		record.DateValue(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), record.FloatValue(-math.MaxFloat64),
	}
	full.Batch.Upserts = append(full.Batch.Upserts, edge)
	backfill := sampleMessage()
	backfill.Kind, backfill.Batch.Deletes, backfill.Batch.Overwrite = KindBackfill, nil, true
	empty := sampleMessage()
	empty.Batch = record.Batch{Entity: "account"}
	for name, m := range map[string]Message{"page": full, "backfill": backfill, "empty": empty} {
		t.Run(name, func(t *testing.T) {
			fromJSON, err := DecodeMessage(m.Encode())
			if err != nil {
				t.Fatal(err)
			}
			unit := m.EncodeUnit()
			if !isUnit(unit) {
				t.Fatalf("not a unit: %q", unit[:8])
			}
			fromUnit, err := DecodeMessage(unit)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromUnit, fromJSON) {
				t.Fatalf("unit decodes to\n%+v\nJSON to\n%+v", fromUnit, fromJSON)
			}
			if got := namedProfile(unit); got != m.Profile {
				t.Fatalf("namedProfile = %q", got)
			}
		})
	}
}

// Every rule of the JSON form holds for a unit, and a damaged unit is a
// *MalformedError that says where.
func TestDecodeUnitRejects(t *testing.T) {
	m := sampleMessage()
	valid := m.EncodeUnit()
	header := func(b []byte) (start, end int) {
		n, k := binary.Uvarint(b[len(unitMagic)+1:])
		start = len(unitMagic) + 1 + k
		return start, start + int(n)
	}
	withHeader := func(h string) []byte {
		_, e := header(valid)
		b := append([]byte(nil), valid[:len(unitMagic)+1]...)
		b = binary.AppendUvarint(b, uint64(len(h)))
		b = append(b, h...)
		return append(b, valid[e:]...)
	}
	hs, he := header(valid)
	h := string(valid[hs:he])
	replace := func(old, new string) []byte {
		if bytes.Count(valid, []byte(old)) != 1 {
			t.Fatalf("%q is not once in the unit", old)
		}
		i := bytes.Index(valid, []byte(old))
		if i < 0 {
			t.Fatalf("%q not in the unit", old)
		}
		return append(append(append([]byte(nil), valid[:i]...), new...), valid[i+len(old):]...)
	}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"version", append([]byte(unitMagic+"\x02"), valid[len(unitMagic)+1:]...), "unsupported unit version 2"},
		{"truncated", valid[:len(valid)/2], "truncated"},
		{"trailing bytes", append(append([]byte(nil), valid...), 0), "1 bytes after the deletes"},
		{"header not JSON", withHeader("{"), "unit header: invalid JSON"},
		{"header kind", withHeader(strings.Replace(h, `"kind":"delta"`, `"kind":"weird"`, 1)), `unit header: unknown kind "weird"`},
		{"header with records", withHeader(string(m.Encode())), "unit header carries records"},
		{"bad id", replace("2e451703-c686-e711-80e5-00155db19e6e", "2E451703-C686-E711-80E5-00155DB19E6E"), `deletes[0] id "2E451703-C686-E711-80E5-00155DB19E6E" is not a lowercase GUID`},
		{"bad guid value", replace("\x08\x2460c4e274-0d87-e711-80e5-00155db19e6d", "\x08\x24x0c4e274-0d87-e711-80e5-00155db19e6d"), `upserts[0] column "accountid": "x0c4e274-0d87-e711-80e5-00155db19e6d" is not a lowercase GUID`},
		{"bad decimal", replace("12345678901234567890.1234", "12345678901234567890.12x4"), `upserts[0] column "revenue": "12345678901234567890.12x4" is not a decimal number`},
		{"wrong value kind", replace("\x03\x1912345678901234567890.1234", "\x01\x1912345678901234567890.1234"), `column "revenue": expected a decimal value, found a string value`},
		{"huge count", append(withHeader(h)[:he], 0, 0xff, 0xff, 0xff, 0xff, 0x0f), "upserts: 4294967295 items cannot fit"},
		{"infinite float", replace(string(binary.LittleEndian.AppendUint64([]byte{byte(record.Float)}, math.Float64bits(0.1))), string(binary.LittleEndian.AppendUint64([]byte{byte(record.Float)}, math.Float64bits(math.Inf(1))))), `column "ratio": float +Inf is not finite`},
		{"year 10000", replace(string(binary.AppendVarint([]byte{byte(record.DateTime)}, time.Date(2023, 4, 7, 21, 59, 1, 0, time.UTC).Unix())), string(binary.AppendVarint([]byte{byte(record.DateTime)}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()))), `column "createdon": datetime 10000-01-01T00:00:00Z is out of range`},
		{"backfill with deletes", withHeader(strings.Replace(h, `"kind":"delta"`, `"kind":"backfill"`, 1)), `a "backfill" message carries deletes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMessage(tt.body)
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("want *MalformedError, got %v (%+v)", err, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// FuzzDecodeMessage: no body makes the decoder panic or return a message
// that does not survive both encodings unchanged.
func FuzzDecodeMessage(f *testing.F) {
	m := sampleMessage()
	f.Add(m.Encode())
	f.Add(m.EncodeUnit())
	ref := m.envelope()
	ref.Claim = "p/account/3-9f86d081884c7d65.unit"
	f.Add(ref.Encode())
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DecodeMessage(body)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("not a *MalformedError: %T %v", err, err)
			}
			return
		}
		for _, again := range [][]byte{m.Encode(), m.EncodeUnit()} {
			back, err := DecodeMessage(again)
			if err != nil {
				t.Fatalf("re-encoded message does not decode: %v\n%q", err, again)
			}
			if !sameMessage(back, m) {
				t.Fatalf("round trip changed the message:\n%+v\n%+v", back, m)
			}
		}
	})
}

// sameMessage compares decoded messages, values by record.Value.Equal
// (NaN aside: a float NaN equals itself here).
func sameMessage(a, b *Message) bool {
	if !reflect.DeepEqual(a.envelope(), b.envelope()) || a.Claim != b.Claim || a.Attempt != b.Attempt || a.Waits != b.Waits ||
		!reflect.DeepEqual(a.Batch.Columns, b.Batch.Columns) || !reflect.DeepEqual(a.Batch.Deletes, b.Batch.Deletes) ||
		len(a.Batch.Upserts) != len(b.Batch.Upserts) || a.Batch.Overwrite != b.Batch.Overwrite {
		return false
	}
	for i, r := range a.Batch.Upserts {
		o := b.Batch.Upserts[i]
		if r.ID != o.ID || r.Version != o.Version || len(r.Values) != len(o.Values) {
			return false
		}
		for j, v := range r.Values {
			w := o.Values[j]
			if !v.Equal(w) && !(v.Kind == record.Float && w.Kind == record.Float && math.IsNaN(v.Float()) && math.IsNaN(w.Float())) {
				return false
			}
		}
	}
	return true
}

// BenchmarkUnit: a 5,000-row page of the sample's eight columns, each way.
func BenchmarkUnit(b *testing.B) {
	m := sampleMessage()
	row := m.Batch.Upserts[0]
	m.Batch.Upserts = nil
	for range 5000 {
		m.Batch.Upserts = append(m.Batch.Upserts, row)
	}
	unit := m.EncodeUnit()
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(unit)))
		for b.Loop() {
			m.EncodeUnit()
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(unit)))
		for b.Loop() {
			if _, err := DecodeMessage(unit); err != nil {
				b.Fatal(err)
			}
		}
	})
}
