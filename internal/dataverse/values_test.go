package dataverse

import (
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/record"
)

func TestPlainDecimal(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"20000.0000", "20000.0000", true},
		{"0", "0", true},
		{"-0.01", "-0.01", true},
		{"1E+2", "100", true},
		{"1e2", "100", true},
		{"1.5E+3", "1500", true},
		{"1.25E1", "12.5", true},
		{"-1.5e-3", "-0.0015", true},
		{"1.0E-10", "0.00000000010", true},
		{"123.456e0", "123.456", true},
		{"0.5E1", "5", true},
		{"9.99999E2", "999.999", true},
		{"922337203685477.5807", "922337203685477.5807", true},
		{"", "", false},
		{"abc", "", false},
		{"1.", "", false},
		{".5", "", false},
		{"1e", "", false},
		{"1e9999", "", false},
	}
	for _, tt := range tests {
		var sb strBuf
		got, ok := sb.decimal([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("decimal(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC3339Nano in UTC, "" = not accepted by the fast path
	}{
		{"2023-04-07T21:59:01Z", "2023-04-07T21:59:01Z"},
		{"2023-04-07T21:59:01.5Z", "2023-04-07T21:59:01.5Z"},
		{"2017-08-22T08:10:44.1234567+02:00", "2017-08-22T06:10:44.1234567Z"},
		{"2017-08-22T08:10:44-05:30", "2017-08-22T13:40:44Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"2023-04-07 21:59:01Z", ""},
		{"2023-04-07T25:59:01Z", ""},
		{"2023-04-07T21:59:01", ""},
	}
	for _, tt := range tests {
		got, ok := parseTimestamp([]byte(tt.in))
		if tt.want == "" {
			if ok {
				t.Errorf("parseTimestamp(%q) accepted: %v", tt.in, got)
			}
			continue
		}
		want, _ := time.Parse(time.RFC3339Nano, tt.want)
		if !ok || !got.Equal(want) {
			t.Errorf("parseTimestamp(%q) = %v %v, want %v", tt.in, got, ok, want)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	dt := func(s string) record.Value {
		v, _ := time.Parse(time.RFC3339Nano, s)
		return record.DateTimeValue(v)
	}
	date := func(y int, m time.Month, d int) record.Value {
		return record.DateValue(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
	}
	tests := []struct {
		raw     string
		kind    record.Kind
		want    record.Value
		wantErr bool
	}{
		{`null`, record.Int, record.NullValue(), false},
		{`"a\u00e9\n"`, record.String, record.StringValue("aé\n"), false},
		{`"2,3,8,9"`, record.String, record.StringValue("2,3,8,9"), false},
		{`12`, record.String, record.Value{}, true},
		{`9223372036854775807`, record.Int, record.IntValue(9223372036854775807), false},
		{`-9223372036854775808`, record.Int, record.IntValue(-9223372036854775808), false},
		{`9223372036854775808`, record.Int, record.Value{}, true},
		{`1.5`, record.Int, record.Value{}, true},
		{`"7"`, record.Int, record.Value{}, true},
		{`20000.0000`, record.Decimal, record.DecimalValue("20000.0000"), false},
		{`"20000.0000"`, record.Decimal, record.DecimalValue("20000.0000"), false},
		{`"NaN"`, record.Decimal, record.Value{}, true},
		{`true`, record.Decimal, record.Value{}, true},
		{`1.5`, record.Float, record.FloatValue(1.5), false},
		{`true`, record.Bool, record.BoolValue(true), false},
		{`false`, record.Bool, record.BoolValue(false), false},
		{`1`, record.Bool, record.Value{}, true},
		{`"2023-04-07T21:59:01Z"`, record.DateTime, dt("2023-04-07T21:59:01Z"), false},
		{`"2023-04-07T21:59:01.1234567-07:00"`, record.DateTime, dt("2023-04-08T04:59:01.1234567Z"), false},
		{`"2023-04-07"`, record.DateTime, record.Value{}, true},
		{`"2023-04-07"`, record.Date, date(2023, 4, 7), false},
		{`"2023-04-07T00:00:00Z"`, record.Date, date(2023, 4, 7), false},
		{`"2023-04-07T23:00:00-05:00"`, record.Date, date(2023, 4, 7), false},
		{`"2023-13-07"`, record.Date, record.Value{}, true},
		{`"20230407"`, record.Date, record.Value{}, true},
		{`"60C4E274-0D87-E711-80E5-00155DB19E6D"`, record.GUID, record.GUIDValue("60c4e274-0d87-e711-80e5-00155db19e6d"), false},
		{`"{60C4E274-0D87-E711-80E5-00155DB19E6D}"`, record.GUID, record.GUIDValue("60c4e274-0d87-e711-80e5-00155db19e6d"), false},
		{`"60c4e274x0d87-e711-80e5-00155db19e6d"`, record.GUID, record.Value{}, true},
		{`"60c4e274-0d87-e711-80e5-00155db19e6g"`, record.GUID, record.Value{}, true},
	}
	var sb strBuf
	for _, tt := range tests {
		got, err := decodeValue([]byte(tt.raw), tt.kind, &sb)
		if (err != nil) != tt.wantErr {
			t.Errorf("decodeValue(%s, %s) err = %v, wantErr %v", tt.raw, tt.kind, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !got.Equal(tt.want) {
			t.Errorf("decodeValue(%s, %s) = %v (%s), want %v (%s)", tt.raw, tt.kind, got, got.Kind, tt.want, tt.want.Kind)
		}
	}
}
