package dataverse

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/go-json-experiment/json/jsontext"
)

// Value decoding works on the raw JSON bytes of one member (valid only until
// the decoder moves on), so the only allocations are the strings a record
// keeps.

var errWrongJSON = errors.New("unexpected JSON type")

// decodeValue converts the raw JSON of one column into a record value of kind k.
func decodeValue(raw jsontext.Value, k record.Kind, sb *strBuf) (record.Value, error) {
	if len(raw) == 0 {
		return record.Value{}, errWrongJSON
	}
	if raw[0] == 'n' {
		return record.Value{}, nil
	}
	switch k {
	case record.String:
		s, err := sb.unquote(raw)
		if err != nil {
			return record.Value{}, err
		}
		return record.Value{Kind: record.String, S: s}, nil
	case record.Int:
		if !isNumber(raw) {
			return record.Value{}, errWrongJSON
		}
		i, ok := parseInt(raw)
		if !ok {
			return record.Value{}, fmt.Errorf("%s is not a 64-bit integer", raw)
		}
		return record.Value{Kind: record.Int, I: i}, nil
	case record.Decimal:
		num := []byte(raw)
		if raw[0] == '"' {
			// IEEE754Compatible responses quote decimals; accept those that are numbers.
			num = raw[1 : len(raw)-1]
		}
		s, ok := sb.decimal(num)
		if !ok {
			return record.Value{}, fmt.Errorf("%s is not a decimal number", raw)
		}
		return record.Value{Kind: record.Decimal, S: s}, nil
	case record.Float:
		if !isNumber(raw) {
			return record.Value{}, errWrongJSON
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return record.Value{}, err
		}
		return record.FloatValue(f), nil
	case record.Bool:
		switch raw[0] {
		case 't':
			return record.BoolValue(true), nil
		case 'f':
			return record.BoolValue(false), nil
		}
		return record.Value{}, errWrongJSON
	case record.DateTime, record.Date:
		if raw[0] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
			return record.Value{}, errWrongJSON
		}
		b := raw[1 : len(raw)-1]
		if k == record.Date {
			// DateOnly arrives as Edm.Date "YYYY-MM-DD"; older responses send a
			// midnight timestamp. Either way the written day is the value.
			if len(b) >= 10 {
				if t, ok := parseDate(b[:10]); ok && (len(b) == 10 || b[10] == 'T') {
					return record.DateValue(t), nil
				}
			}
			return record.Value{}, fmt.Errorf("%s is not a date", raw)
		}
		t, ok := parseTimestamp(b)
		if !ok {
			var err error
			if t, err = time.Parse(time.RFC3339Nano, string(b)); err != nil {
				return record.Value{}, fmt.Errorf("%s is not a timestamp", raw)
			}
		}
		return record.DateTimeValue(t), nil
	case record.GUID:
		if raw[0] != '"' {
			return record.Value{}, errWrongJSON
		}
		s, ok := sb.guid(raw[1 : len(raw)-1])
		if !ok {
			return record.Value{}, fmt.Errorf("%s is not a GUID", raw)
		}
		return record.Value{Kind: record.GUID, S: s}, nil
	}
	return record.Value{}, fmt.Errorf("no decoding for kind %s", k)
}

func isNumber(raw []byte) bool { return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') }

// parseInt parses a JSON integer without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// decimal validates a JSON number and returns it as plain decimal text,
// keeping every digit as sent: exponent forms (1.5E+3) are rewritten without
// the exponent (1500), everything else is returned unchanged.
func (sb *strBuf) decimal(b []byte) (string, bool) {
	// Split into sign, integer digits, fraction digits, exponent.
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	intPart := b[intStart:i]
	if len(intPart) == 0 {
		return "", false
	}
	var frac []byte
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		frac = b[fs:i]
		if len(frac) == 0 {
			return "", false
		}
	}
	if i == len(b) {
		return sb.keep(b), true
	}
	if b[i] != 'e' && b[i] != 'E' {
		return "", false
	}
	i++
	exp, ok := parseInt(bytes.TrimPrefix(b[i:], []byte{'+'}))
	if !ok || exp > 400 || exp < -400 {
		return "", false
	}
	digits := make([]byte, 0, len(intPart)+len(frac))
	digits = append(digits, intPart...)
	digits = append(digits, frac...)
	point := len(intPart) + int(exp) // position of the decimal point within digits
	var out []byte
	if neg {
		out = append(out, '-')
	}
	switch {
	case point <= 0:
		out = append(out, '0', '.')
		out = append(out, bytes.Repeat([]byte{'0'}, -point)...)
		out = append(out, digits...)
	case point >= len(digits):
		out = append(out, digits...)
		out = append(out, bytes.Repeat([]byte{'0'}, point-len(digits))...)
	default:
		out = append(out, digits[:point]...)
		out = append(out, '.')
		out = append(out, digits[point:]...)
	}
	// Drop leading zeros of the integer part ("0015" -> "15", keep "0.x").
	start := 0
	if neg {
		start = 1
	}
	j := start
	for j < len(out)-1 && out[j] == '0' && out[j+1] != '.' {
		j++
	}
	out = append(out[:start], out[j:]...)
	return sb.keep(out), true
}

func digits2(b []byte) (int, bool) {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

// parseDate reads YYYY-MM-DD as midnight UTC.
func parseDate(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	hi, ok1 := digits2(b[0:2])
	lo, ok2 := digits2(b[2:4])
	mo, ok3 := digits2(b[5:7])
	d, ok4 := digits2(b[8:10])
	if !(ok1 && ok2 && ok3 && ok4) || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(hi*100+lo, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 2023-02-30 would normalise into March
		return time.Time{}, false
	}
	return t, true
}

// parseTimestamp is a fast path for the Web API's form
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm); ok=false sends the caller to time.Parse.
func parseTimestamp(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	day, ok := parseDate(b[:10])
	if !ok {
		return time.Time{}, false
	}
	h, ok1 := digits2(b[11:13])
	m, ok2 := digits2(b[14:16])
	s, ok3 := digits2(b[17:19])
	if !(ok1 && ok2 && ok3) || h > 23 || m > 59 || s > 59 {
		return time.Time{}, false
	}
	i := 19
	ns := 0
	if b[i] == '.' {
		i++
		scale := 100_000_000
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n < 9 {
				ns += int(b[i]-'0') * scale
				scale /= 10
			}
			n++
			i++
		}
		if n == 0 {
			return time.Time{}, false
		}
	}
	var off int
	switch {
	case i == len(b)-1 && b[i] == 'Z':
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := digits2(b[i+1 : i+3])
		om, ok2 := digits2(b[i+4 : i+6])
		if !ok1 || !ok2 {
			return time.Time{}, false
		}
		off = oh*3600 + om*60
		if b[i] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second + time.Duration(ns))
	return t.Add(-time.Duration(off) * time.Second), true
}

// guid validates a GUID (optionally in braces) and returns it in
// lowercase 8-4-4-4-12 form.
func (sb *strBuf) guid(b []byte) (string, bool) {
	if len(b) == 38 && b[0] == '{' && b[37] == '}' {
		b = b[1:37]
	}
	if len(b) != 36 {
		return "", false
	}
	var out [36]byte
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			case c >= 'A' && c <= 'F':
				c += 'a' - 'A'
			default:
				return "", false
			}
		}
		out[i] = c
	}
	return sb.keep(out[:]), true
}
