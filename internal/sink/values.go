package sink

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// IsGUID reports whether s is a GUID in the 8-4-4-4-12 form (either case).
func IsGUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for i := 0; i < 36; i++ {
		if !isHex[s[i]] && i != 8 && i != 13 && i != 18 && i != 23 {
			return false
		}
	}
	return true
}

var isHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// CanonicalGUID is s in lowercase, the form every sink stores and returns.
func CanonicalGUID(s string) string { return strings.ToLower(s) }

// CanonicalDecimal is the decimal text s without an exponent, trailing
// fractional zeros or a trailing point ("1.50" → "1.5", "2.000" → "2",
// "1E-3" → "0.001", "-0" → "0"). Readers return decimals in this form, so
// a value compares equal whatever scale the column gave it. Text that is not
// a decimal is returned unchanged.
func CanonicalDecimal(s string) string {
	if !IsDecimal(s) {
		return s // also bounds the exponent: expanding 1e999999999 never ends
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	t := d.String()
	if strings.IndexByte(t, '.') >= 0 {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	return t
}

// maxExponent bounds the exponent IsDecimal accepts.
const maxExponent = 1000

// IsDecimal reports whether s is a decimal number as JSON writes one:
// optional sign, digits, optional fraction, optional exponent (at most
// maxExponent either way).
func IsDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		start := i
		if digits() == 0 {
			return false
		}
		// An exponent past 1000 is no decimal(38,p) value, and expanding
		// it (CanonicalDecimal) would take memory and time without bound.
		if e, err := strconv.Atoi(s[start:i]); err != nil || e > maxExponent {
			return false
		}
	}
	return i == len(s)
}
