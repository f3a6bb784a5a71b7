package postgres

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// decimalText is a decimal's exact text on its way to a numeric column.
// Its codec writes PostgreSQL's binary numeric (base-10000 digits) straight
// from the text: pgx's own path goes through math/big, which was a fifth of
// the client's CPU in a COPY of account rows.
type decimalText string

// numericCodec is pgx's numeric codec plus a binary plan for decimalText.
type numericCodec struct{ pgtype.NumericCodec }

func (c numericCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(decimalText); ok {
		if format == pgtype.BinaryFormatCode {
			return encodeDecimalText{}
		}
		return encodeDecimalTextAsText{}
	}
	return c.NumericCodec.PlanEncode(m, oid, format, value)
}

// registerNumeric makes m encode decimalText values.
func registerNumeric(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: numericCodec{}})
}

type encodeDecimalTextAsText struct{}

func (encodeDecimalTextAsText) Encode(value any, buf []byte) ([]byte, error) {
	return append(buf, value.(decimalText)...), nil
}

type encodeDecimalText struct{}

func (encodeDecimalText) Encode(value any, buf []byte) ([]byte, error) {
	return appendNumeric(buf, string(value.(decimalText)))
}

// maxNumericDigits bounds the digits a text may expand to (exponents
// included), far above numeric(38,s) and below the format's limits.
const maxNumericDigits = 4096

// appendNumeric appends the binary numeric of the decimal text s: ndigits,
// weight, sign, dscale (int16 each), then the base-10000 digits.
func appendNumeric(buf []byte, s string) ([]byte, error) {
	bad := func() ([]byte, error) { return nil, fmt.Errorf("not a decimal number") }
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxNumericDigits || e < -maxNumericDigits {
			return bad()
		}
		mant, exp = s[:i], e
	}
	intp, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intp, frac = mant[:i], mant[i+1:]
	}
	if intp == "" && frac == "" {
		return bad()
	}
	for _, part := range [...]string{intp, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad()
			}
		}
	}
	// The digits are intp+frac with the point after `point` of them; the
	// exponent moves the point. digit(i) reads that sequence, zero outside.
	n := len(intp) + len(frac)
	point := len(intp) + exp
	digit := func(i int) int {
		switch {
		case i < 0 || i >= n:
			return 0
		case i < len(intp):
			return int(intp[i] - '0')
		default:
			return int(frac[i-len(intp)] - '0')
		}
	}
	dscale := max(0, n-point)
	if dscale > 0x3FFF || point > maxNumericDigits {
		return bad()
	}
	// Base-10000 groups are aligned on the point: group g covers digits
	// point+4g .. point+4g+3 (g < 0: integer part).
	first := -ceilDiv(point, 4) // the group holding digit 0
	last := ceilDiv(dscale, 4)  // one past the group holding digit n-1
	group := func(g int) int {
		at := point + 4*g
		return digit(at)*1000 + digit(at+1)*100 + digit(at+2)*10 + digit(at+3)
	}
	for first < last && group(first) == 0 {
		first++
	}
	for last > first && group(last-1) == 0 {
		last--
	}
	ndigits, weight := last-first, -first-1
	sign := uint16(0)
	if ndigits == 0 {
		weight = 0
	} else if neg {
		sign = 0x4000
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(ndigits))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(dscale))
	for g := first; g < last; g++ {
		buf = binary.BigEndian.AppendUint16(buf, uint16(group(g)))
	}
	return buf, nil
}

// ceilDiv is a/b rounded up, for any sign of a (b > 0).
func ceilDiv(a, b int) int {
	if a > 0 {
		return (a + b - 1) / b
	}
	return a / b // Go truncates toward zero: the ceiling for a <= 0
}
