package dvemu

import (
	"flag"
	"fmt"
	"strconv"
)

// The emulator's command-line flags live here rather than in cmd/dataexport
// so that their parsing is tested with the package.

// SeedSample names the sample org, the content New builds.
const SeedSample = "sample"

// Flags binds Options to a flag.FlagSet. Flags left at zero take New's
// defaults, which the help text gives in brackets.
type Flags struct {
	fs   *flag.FlagSet
	opts Options
	seed string
}

// NewFlags registers the emulator's flags on fs; call Options after fs.Parse.
func NewFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	o, fl := &f.opts, &f.opts.Faults
	// The help gives the defaults New applies, taken from where they are set.
	d := newFaultState(Faults{}, 0, nil).cfg
	fs.StringVar(&f.seed, "seed", SeedSample, "org to start with: `sample`; an integer is taken as -rand-seed, the flag's former meaning")
	fs.IntVar(&o.Records, "records", 10, "rows generated per entity")
	fs.Int64Var(&o.RandSeed, "rand-seed", 1, "generator seed: same seed, same rows, ids and injected faults")
	fs.StringVar(&o.Token, "token", DefaultToken, "bearer token clients must send")
	fs.BoolVar(&o.OmitLookupAnnotations, "omit-lookup-annotations", false, "never return lookuplogicalname or associatednavigationproperty annotations")
	fs.BoolVar(&o.OmitVersionNumber, "omit-versionnumber", false, "never return versionnumber in data rows, even when selected: rows carry the version only in @odata.etag, as Microsoft's change-tracking examples show")
	fs.IntVar(&o.MaxURLLength, "max-url-length", 0, fmt.Sprintf("answer longer request URLs with 414 [0 = %d]", defaultMaxURLLength))
	fs.IntVar(&o.ExpireChangeTrackingInDays, "delta-retention-days", 0, fmt.Sprintf("`days` a deltaLink stays valid before it answers 0x80044352 [0 = %d]", defaultRetentionDays))
	fs.StringVar(&o.ClientID, "client-id", "", "client_id the OAuth2 token endpoint (POST /{tenant}/oauth2/v2.0/token) accepts [empty = any]")
	fs.StringVar(&o.ClientSecret, "client-secret", "", "client_secret the OAuth2 token endpoint accepts [empty = any]")

	fs.IntVar(&fl.RequestLimit, "request-limit", 0, fmt.Sprintf("service protection: requests per -limit-window before 429 [0 = %d; negative = unlimited]", d.RequestLimit))
	fs.DurationVar(&fl.Window, "limit-window", 0, fmt.Sprintf("service protection: window of -request-limit and -execution-limit [0 = %v]", d.Window))
	fs.IntVar(&fl.ConcurrencyLimit, "concurrency-limit", 0, fmt.Sprintf("service protection: requests in flight before 429 [0 = %d; negative = unlimited]", d.ConcurrencyLimit))
	fs.DurationVar(&fl.ExecutionLimit, "execution-limit", 0, fmt.Sprintf("service protection: serving time per -limit-window before 429 [0 = %v; negative = unlimited]", d.ExecutionLimit))
	fs.Float64Var(&fl.ThrottleRate, "throttle-rate", 0, "share of requests answered 429 regardless of the limits, 0..1 (the four rates add up to at most 1)")
	fs.DurationVar(&fl.RetryAfter, "retry-after", 0, fmt.Sprintf("Retry-After of -throttle-rate 429s [0 = %v]", d.RetryAfter))
	fs.Float64Var(&fl.ServerErrorRate, "server-error-rate", 0, "share of requests answered -server-error-status with a generic SQL error, 0..1")
	fs.IntVar(&fl.ServerErrorStatus, "server-error-status", 0, fmt.Sprintf("`status` of injected server errors, 5xx [0 = %d]", d.ServerErrorStatus))
	fs.Float64Var(&fl.SlowRate, "slow-rate", 0, "share of requests answered after -slow-delay, 0..1")
	fs.DurationVar(&fl.SlowDelay, "slow-delay", 0, fmt.Sprintf("delay of slow responses [0 = %v]", d.SlowDelay))
	fs.Float64Var(&fl.DropRate, "drop-rate", 0, "share of requests whose connection is closed without an answer, 0..1")
	return f
}

// Options returns the parsed options. New checks the fault settings.
func (f *Flags) Options() (Options, error) {
	o := f.opts
	if f.seed == SeedSample {
		return o, nil
	}
	n, err := strconv.ParseInt(f.seed, 10, 64)
	if err != nil {
		return Options{}, fmt.Errorf("-seed %q: want %q (the generator seed is -rand-seed)", f.seed, SeedSample)
	}
	randSet := false
	f.fs.Visit(func(fl *flag.Flag) { randSet = randSet || fl.Name == "rand-seed" })
	if randSet {
		return Options{}, fmt.Errorf("-seed %d and -rand-seed both set the generator seed", n)
	}
	o.RandSeed = n
	return o, nil
}
