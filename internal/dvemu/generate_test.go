package dvemu

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
)

func TestBaseIDMatchesFormat(t *testing.T) {
	for _, tc := range []struct {
		seed   int64
		entity string
		i      int
	}{{0, "account", 0}, {7, "contact", 1}, {-3, "new_project", 999_999}, {42, "account", 1 << 30}} {
		h := mix(hash64(tc.entity) ^ uint64(tc.seed) ^ mix(uint64(tc.i)+1))
		g := mix(h)
		want := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", idOffset(tc.seed, tc.entity)+uint32(tc.i), uint16(h), (h>>16)&0xfff, 0x8000|((h>>28)&0x3fff), g&0xffffffffffff)
		if got := baseID(tc.seed, tc.entity, tc.i); got != want {
			t.Errorf("baseID(%d,%s,%d) = %s, want %s", tc.seed, tc.entity, tc.i, got, want)
		}
		if i, ok := baseIndex(tc.seed, tc.entity, want); !ok || i != tc.i {
			t.Errorf("baseIndex(%s) = %d, %v", want, i, ok)
		}
	}
}

func TestDecimalText(t *testing.T) {
	for _, tc := range []struct {
		unscaled int64
		scale    int32
		prec     int
	}{{0, 2, 2}, {5, 2, 2}, {-5, 2, 2}, {123456, 2, 4}, {-9_000_000, 5, 5}, {7, 0, 0}, {12345, 4, 2}, {12355, 3, 2}, {1, 0, 10}} {
		want := decimal.New(tc.unscaled, -tc.scale).StringFixed(int32(tc.prec))
		if got := decimalText(tc.unscaled, tc.scale, tc.prec); got != want {
			t.Errorf("decimalText(%d,%d,%d) = %s, want %s", tc.unscaled, tc.scale, tc.prec, got, want)
		}
	}
}
