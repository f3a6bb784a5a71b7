package dvemu

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	defaults := Options{Records: 10, RandSeed: 1, Token: DefaultToken}
	tests := []struct {
		name    string
		args    []string
		want    func(o *Options)
		wantErr string
	}{
		{"no flags", nil, func(o *Options) {}, ""},
		{"seed sample", []string{"--seed", "sample", "--records", "1000"}, func(o *Options) { o.Records = 1000 }, ""},
		{"rand seed", []string{"--seed=sample", "--rand-seed", "42"}, func(o *Options) { o.RandSeed = 42 }, ""},
		{"integer seed is the former rand seed", []string{"-seed", "7"}, func(o *Options) { o.RandSeed = 7 }, ""},
		{"unknown org", []string{"--seed", "big"}, nil, `-seed "big": want "sample" (the generator seed is -rand-seed)`},
		{"integer seed and rand seed", []string{"--seed", "7", "--rand-seed", "8"}, nil, "-seed 7 and -rand-seed both set the generator seed"},
		{"emulator settings", []string{"--token", "t", "--omit-lookup-annotations", "--delta-retention-days", "2", "--client-id", "app", "--client-secret", "s"},
			func(o *Options) {
				o.Token, o.OmitLookupAnnotations, o.ExpireChangeTrackingInDays, o.ClientID, o.ClientSecret = "t", true, 2, "app", "s"
			}, ""},
		{"fidelity settings", []string{"--omit-versionnumber", "--max-url-length", "8192"},
			func(o *Options) { o.OmitVersionNumber, o.MaxURLLength = true, 8192 }, ""},
		{"faults", []string{"--request-limit", "100", "--limit-window", "1m", "--concurrency-limit", "-1", "--execution-limit", "30s",
			"--throttle-rate", "0.1", "--retry-after", "3s", "--server-error-rate", "0.2", "--server-error-status", "503",
			"--slow-rate", "0.3", "--slow-delay", "500ms", "--drop-rate", "0.05"},
			func(o *Options) {
				o.Faults = Faults{RequestLimit: 100, Window: time.Minute, ConcurrencyLimit: -1, ExecutionLimit: 30 * time.Second,
					ThrottleRate: 0.1, RetryAfter: 3 * time.Second, ServerErrorRate: 0.2, ServerErrorStatus: 503,
					SlowRate: 0.3, SlowDelay: 500 * time.Millisecond, DropRate: 0.05}
			}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f := NewFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := f.Options()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			tc.want(&want)
			eq(t, got, want)
			if _, err := New(got); err != nil {
				t.Fatalf("New rejects parsed options: %v", err)
			}
		})
	}
}

// -help lists every knob with the default a zero value stands for.
func TestFlagsHelp(t *testing.T) {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	NewFlags(fs)
	fs.PrintDefaults()
	for _, want := range []string{
		"-seed sample", "-rand-seed", "-records", "-token", "-omit-lookup-annotations", "-delta-retention-days days", "[0 = 7]",
		"-client-id", "-client-secret", "-request-limit", "[0 = 6000", "-limit-window", "[0 = 5m0s]", "-concurrency-limit", "[0 = 52",
		"-execution-limit", "[0 = 20m0s", "-throttle-rate", "-retry-after", "-server-error-rate", "-server-error-status status", "[0 = 500]",
		"-slow-rate", "-slow-delay", "[0 = 2s]", "-drop-rate", "-omit-versionnumber", "-max-url-length", "[0 = 32768]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}
