// Command pipeline is the end-to-end benchmark of the replicator: the
// Dataverse emulator with N accounts and N contacts, `dataexport run` (the
// real binary: handler and standalone Functions host on a private Azurite)
// into PostgreSQL and into SQLite, beside the same database's own bulk load
// of the same rows from memory. It reports E = pipeline rows/s ÷ baseline
// rows/s, resources per process, messages per row, and the delay from a
// change in the source to the applied row under a steady change rate.
//
//	make bench-pipeline                 # 200,000 rows per entity
//	make bench-pipeline ROWS=1000000
//	go run ./bench/pipeline -h          # every knob
//
// See bench/pipeline/README.md; results go to bench/pipeline/results.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

type config struct {
	root        string
	bin         string
	sizes       []int
	dests       []string
	sources     []string
	rates       []int
	driveFor    time.Duration
	pgURL       string
	customPlans bool
	out         string
	work        string
	pprof       bool
	keep        bool
	pageSize    int
}

func main() {
	log.SetFlags(0)
	var c config
	var sizes, dests, rates string
	flag.StringVar(&sizes, "rows", "200000", "rows per entity (account and contact), comma-separated sizes")
	flag.StringVar(&dests, "dest", "postgres,sqlite", "destinations, comma-separated")
	var sources string
	flag.StringVar(&sources, "source", "replay,live", "how the source serves the initial read, comma-separated: replay (the emulator's pages recorded during the first baseline pass, then served from files: the source's CPU left out, as in Azure) or live (the emulator renders every page)")
	flag.StringVar(&rates, "rates", "100,1000,5000", "change rates (per second) of the delta phases, comma-separated; empty = none")
	flag.DurationVar(&c.driveFor, "drive", 20*time.Second, "length of each delta phase")
	flag.StringVar(&c.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server (any database: the benchmark creates and drops one of its own)")
	flag.BoolVar(&c.customPlans, "custom-plans", false, "set plan_cache_mode=force_custom_plan on the benchmark's database (a stand-in for the sink's own plan fix)")
	flag.StringVar(&c.out, "out", "bench/pipeline/results.md", "results file: the sections of the sizes run are replaced")
	flag.StringVar(&c.work, "work", "bench/pipeline/out", "working folder: logs, databases, profiles")
	flag.StringVar(&c.bin, "bin", "bin/dataexport", "the dataexport binary (make build)")
	flag.BoolVar(&c.pprof, "pprof", false, "save a 20 s CPU profile of the runner during each initial load (work folder)")
	flag.BoolVar(&c.keep, "keep", false, "keep each run's Azurite folder and SQLite database in the work folder (removed by default: gigabytes at 1,000,000 rows; logs and profiles are always kept)")
	flag.IntVar(&c.pageSize, "page-size", 5000, "DATAVERSE_PAGE_SIZE of the runner and the baseline's page")
	flag.Parse()
	var err error
	if c.root, err = os.Getwd(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.root, "scripts", "azurite.sh")); err != nil {
		log.Fatal("run from the repository root (make bench-pipeline)")
	}
	if c.sizes, err = ints(sizes); err != nil || len(c.sizes) == 0 {
		log.Fatalf("-rows %q: %v", sizes, err)
	}
	if c.rates, err = ints(rates); err != nil {
		log.Fatalf("-rates %q: %v", rates, err)
	}
	// Every change of the delta phases goes to another row: refuse at
	// once a size the phases would run out of, not after its loads.
	if need := changedRows(c.rates, c.driveFor); need > 0 {
		for _, n := range c.sizes {
			if n < need {
				log.Fatalf("-rows %d: the delta phases (-rates %s, -drive %v) change %d distinct rows of each entity, more than it has; use -rows %d or more, or fewer or lower -rates, or a shorter -drive", n, rates, c.driveFor, need, need)
			}
		}
	}
	c.dests = choices("-dest", dests, "postgres", "sqlite")
	c.sources = choices("-source", sources, "replay", "live")
	if _, err := os.Stat(c.bin); err != nil {
		log.Fatalf("%s: %v (make build)", c.bin, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env, err := describeMachine(ctx, c)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range c.sizes {
		s := section{size: n, env: env, started: time.Now().UTC()}
		for _, src := range c.sources {
			for _, d := range c.dests {
				r, err := runOne(ctx, c, n, d, src)
				if err != nil {
					log.Fatalf("%d rows, %s, %s source: %v", n, d, src, err)
				}
				s.results = append(s.results, r)
			}
		}
		printSection(os.Stdout, c, s)
		// Each size as it completes: a later failure keeps what is done.
		if err := writeResults(c, []section{s}); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("\nresults written to %s\n", c.out)
	}
}

// choices is a comma-separated flag value, each item one of allowed.
func choices(name, s string, allowed ...string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if !slices.Contains(allowed, v) {
			log.Fatalf("%s: %q is not %s", name, v, strings.Join(allowed, " or "))
		}
		out = append(out, v)
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, errors.New("want positive integers")
		}
		out = append(out, n)
	}
	return out, nil
}

func newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// changedRows is how many distinct rows of each entity the delta phases
// change: phase rate r changes r per second for length, spread over the
// entities in turn (driver.phase).
func changedRows(rates []int, length time.Duration) int {
	n := 0
	for _, r := range rates {
		total := int(float64(r) * length.Seconds())
		n += (total + len(entities) - 1) / len(entities)
	}
	return n
}
