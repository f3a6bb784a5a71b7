package sink

import (
	"strings"
	"testing"
)

func TestIsGUID(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"00000001-0000-4000-8000-000000001eef", true},
		{"ABCDEF00-0000-4000-8000-00000000000A", true},
		{"00000001-0000-4000-8000-000000001eeg", false},
		{"00000001-0000-4000-8000-000000001ee", false},
		{"000000010-000-4000-8000-000000001eef", false},
		{"{00000001-0000-4000-8000-000000001ee}", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := IsGUID(tc.s); got != tc.ok {
			t.Errorf("IsGUID(%q) = %v", tc.s, got)
		}
	}
}

func TestDecimals(t *testing.T) {
	tests := []struct {
		s         string
		ok        bool
		canonical string
	}{
		{"1.50", true, "1.5"}, {"2.000", true, "2"}, {"1E-3", true, "0.001"}, {"-0", true, "0"},
		{"-0.0100", true, "-0.01"}, {"+7", true, "7"}, {"12345678901234567890123456789.1234567890", true, "12345678901234567890123456789.123456789"},
		{".5", true, "0.5"}, {"5.", true, "5"}, {"1e5", true, "100000"},
		{"", false, ""}, {"1,5", false, "1,5"}, {"abc", false, "abc"}, {"1e", false, "1e"}, {".", false, "."}, {"--1", false, "--1"},
		{"1e-1000", true, "0." + strings.Repeat("0", 999) + "1"}, {"1e1001", false, "1e1001"}, {"1e999999999", false, "1e999999999"}, {"1e99999999999999999999", false, "1e99999999999999999999"},
	}
	for _, tc := range tests {
		if got := IsDecimal(tc.s); got != tc.ok {
			t.Errorf("IsDecimal(%q) = %v", tc.s, got)
		}
		if got := CanonicalDecimal(tc.s); got != tc.canonical {
			t.Errorf("CanonicalDecimal(%q) = %q, want %q", tc.s, got, tc.canonical)
		}
	}
}
