package sqlserver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

func TestPlainDecimal(t *testing.T) {
	tests := []struct {
		in    string
		scale int
		want  string
	}{
		{"20000.0000", 4, "20000.0000"},
		{"20000.0000", 2, "20000"},
		{"1.005", 2, "1.01"},
		{"-1.005", 2, "-1.01"},
		{"1.5E-3", 10, "0.0015"},
		{"+7", 0, "7"},
		{"12", 0, "12"},
		{"1234567890123456789012345678.1234567891", 10, "1234567890123456789012345678.1234567891"},
	}
	for _, tc := range tests {
		got, err := plainDecimal(tc.in, tc.scale)
		if err != nil || got != tc.want {
			t.Errorf("plainDecimal(%q, %d) = %q, %v; want %q", tc.in, tc.scale, got, err, tc.want)
		}
	}
	if _, err := plainDecimal("1,5e", 2); err == nil {
		t.Error("plainDecimal accepted 1,5e")
	}
}

func TestBulkValue(t *testing.T) {
	when := time.Date(2024, 2, 29, 13, 45, 30, 0, time.FixedZone("x", 3600))
	id := "0a1b2c3d-0000-4000-8000-00000000abcd"
	tests := []struct {
		in   record.Value
		want any
	}{
		{record.NullValue(), nil},
		{record.StringValue("O'Brien"), "O'Brien"},
		{record.IntValue(-5), int64(-5)},
		{record.DecimalValue("2.50"), "2.50"},
		{record.FloatValue(0.25), 0.25},
		{record.BoolValue(true), true},
		{record.DateTimeValue(when), when.UTC()},
		{record.DateValue(when), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		if err := checkValue(tc.in, schema.DecimalType(2)); err != nil {
			t.Errorf("checkValue(%s %s) = %v", tc.in.Kind, tc.in, err)
		}
		if got := bulkValue(tc.in, schema.DecimalType(2)); got != tc.want {
			t.Errorf("bulkValue(%s %s) = %#v; want %#v", tc.in.Kind, tc.in, got, tc.want)
		}
	}
	got := bulkValue(record.GUIDValue(id), schema.ColumnType{Kind: record.GUID})
	u, ok := got.(mssql.UniqueIdentifier)
	if !ok {
		t.Fatalf("GUID became %T", got)
	}
	// The driver sends Value()'s bytes; reading them back must give the id.
	raw, _ := u.Value()
	back, err := scanGUID(raw)
	if err != nil || back != id {
		t.Errorf("GUID round trip %q, %v; want %q", back, err, id)
	}
	for _, bad := range []struct {
		v  record.Value
		ct schema.ColumnType
	}{
		{record.GUIDValue("not-a-guid"), schema.ColumnType{Kind: record.GUID}},
		{record.IntValue(1 << 31), schema.IntType()},
		{record.IntValue(-1<<31 - 1), schema.IntType()},
		{record.StringValue("abcdef"), schema.StringType(5)},
		{record.StringValue(strings.Repeat("𝄞", 3)), schema.StringType(5)}, // 6 UTF-16 units
		{record.DateTimeValue(time.Date(1752, 12, 31, 23, 59, 59, 0, time.UTC)), schema.ColumnType{Kind: record.DateTime}},
		{record.DecimalValue("1,5"), schema.DecimalType(2)},
		{record.Value{Kind: record.Kind(99)}, schema.StringType(5)},
	} {
		if err := checkValue(bad.v, bad.ct); err == nil {
			t.Errorf("checkValue accepted %s %s into %s", bad.v.Kind, bad.v, bad.ct)
		}
	}
	for _, ok := range []struct {
		v  record.Value
		ct schema.ColumnType
	}{
		{record.IntValue(1 << 40), schema.BigIntType()},
		{record.IntValue(-1 << 31), schema.IntType()},
		{record.StringValue(strings.Repeat("ü", 5)), schema.StringType(5)}, // 10 bytes, 5 units
		{record.StringValue(strings.Repeat("x", 9000)), schema.StringType(0)},
		{record.DateValue(time.Date(1753, 1, 1, 0, 0, 0, 0, time.UTC)), schema.ColumnType{Kind: record.DateTime}},
	} {
		if err := checkValue(ok.v, ok.ct); err != nil {
			t.Errorf("checkValue refused %s into %s: %v", ok.v.Kind, ok.ct, err)
		}
	}
}

func TestFromDB(t *testing.T) {
	local := time.Date(2024, 2, 29, 13, 45, 30, 123000000, time.FixedZone("", 0))
	guidBytes, _ := mustGUID(t, "abcdef00-0000-4000-8000-0000000000ff").Value()
	tests := []struct {
		in   any
		kind record.Kind
		want record.Value
	}{
		{nil, record.String, record.NullValue()},
		{"x", record.String, record.StringValue("x")},
		{int64(7), record.Int, record.IntValue(7)},
		{[]byte("20.5000"), record.Decimal, record.DecimalValue("20.5")},
		{[]byte("-0.0000000001"), record.Decimal, record.DecimalValue("-0.0000000001")},
		{1.5, record.Float, record.FloatValue(1.5)},
		{true, record.Bool, record.BoolValue(true)},
		{local, record.DateTime, record.DateTimeValue(local)},
		{time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC), record.Date, record.DateValue(time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC))},
		{guidBytes, record.GUID, record.GUIDValue("abcdef00-0000-4000-8000-0000000000ff")},
	}
	for _, tc := range tests {
		got, err := fromDB(tc.in, tc.kind)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("fromDB(%#v, %s) = %s, %v; want %s", tc.in, tc.kind, got, err, tc.want)
		}
	}
	if _, err := fromDB("text", record.Int); err == nil {
		t.Error("fromDB read a string as int")
	}
}

func mustGUID(t *testing.T, s string) mssql.UniqueIdentifier {
	t.Helper()
	u, err := guid(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Connection strings carry passwords: no error may repeat them.
func TestOpenKeepsSecrets(t *testing.T) {
	const secret = "s3cr3t-P@ss"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name, conn string
		is         error
	}{
		{"unparsable", "sqlserver://sa:" + secret + "@localhost:notaport?database=x", ErrConnString},
		{"unparsable ado", "server=localhost;password=" + secret + ";port=notaport", ErrConnString},
		// Nothing listens on port 1: the dial fails at once.
		{"unreachable", "sqlserver://sa:" + secret + "@127.0.0.1:1?database=x&dial+timeout=2", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.conn, &sink.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error repeats the password: %v", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
		})
	}
}
