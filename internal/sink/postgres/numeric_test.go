package postgres

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The binary numeric written from text equals the server's own parse of
// the same text, for awkward and random decimals.
func TestNumericEncoding(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, testConnString())
	if err != nil {
		t.Fatalf("PostgreSQL test database unreachable: %v", err)
	}
	defer conn.Close(ctx)
	registerNumeric(conn.TypeMap())
	values := []string{
		"0", "-0", "0.0000", "1", "-1", "10000", "9999", "99999999", "100000000", "0.0001", "0.00001", "-0.5",
		"12345678901234567890123456789012345678", "1234567890123456789012345678.1234567891", "0.0000000001",
		"922337203685477.5807", "-922337203685477.5808", "20000.0000", "1.50", "+7", ".5", "5.", "1E-3", "1.5e3",
		"1e-9", "123.456e-2", "0e5", "1e20", "-4.2E+7", "000123.4500",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		s := fmt.Sprintf("%d", rng.Int64N(1e18)-5e17)
		if k := rng.IntN(19); k > 0 && k < len(s)-1 {
			s = s[:len(s)-k] + "." + s[len(s)-k:]
		}
		values = append(values, s)
	}
	for _, v := range values {
		var same bool
		var got, want string
		err := conn.QueryRow(ctx, `SELECT $1::numeric = $2::text::numeric, $1::numeric::text, $2::text::numeric::text`, decimalText(v), v).Scan(&same, &got, &want)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if !same || got != want {
			t.Errorf("%q: encoded as %s, server parses %s", v, got, want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1,5", "1e", "e5", "1e99999", "abc", "1.2.3", "--1"} {
		if _, err := appendNumeric(nil, bad); err == nil {
			t.Errorf("%q encoded, want an error", bad)
		}
	}
}
