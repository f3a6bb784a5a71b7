package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The benchmark runs end to end on a small dataset, both destinations and
// both sources, and writes its results file: it is the one command the
// performance figures come from, so a change that breaks it (a renamed
// column, a new required setting) fails here rather than at the next
// measurement. The figures themselves are not checked: on 3,000 rows they
// measure start-up, not throughput.
func TestBenchmarkRunsEndToEnd(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "dataexport")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dataexport")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Chdir(root) // as make bench-pipeline runs it: functions/ and host.json
	c := config{
		root:     root,
		bin:      bin,
		sizes:    []int{3000},
		dests:    []string{"postgres", "sqlite"},
		sources:  []string{"replay", "live"},
		rates:    []int{200},
		driveFor: 3 * time.Second,
		pgURL:    "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		out:      filepath.Join(t.TempDir(), "results.md"),
		work:     t.TempDir(),
		pageSize: 1000,
	}
	s := section{size: 3000, env: "test", started: time.Now().UTC()}
	for _, src := range c.sources {
		for _, d := range c.dests {
			r, err := runOne(t.Context(), c, 3000, d, src)
			if err != nil {
				t.Fatalf("%s, %s source: %v", d, src, err)
			}
			if r.rows != 6000 || r.e() <= 0 || r.messages == 0 {
				t.Errorf("%s, %s source: %d rows, E = %.2f, %d messages; want 6000 rows, some E, some messages", d, src, r.rows, r.e(), r.messages)
			}
			if len(r.deltas) != 1 || !r.deltas[0].applied {
				t.Errorf("%s, %s source: delta phase %+v; want every change applied", d, src, r.deltas)
			}
			if (src == "replay") != strings.Contains(r.replayed, "requests served") {
				t.Errorf("%s, %s source: replay summary %q", d, src, r.replayed)
			}
			s.results = append(s.results, r)
		}
	}
	if err := writeResults(c, []section{s}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(c.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| postgres | replay |", "| sqlite | live |", "**E = ", "sqlite (live run) | 200 ("} {
		if !strings.Contains(string(b), want) {
			t.Errorf("results file lacks %q:\n%s", want, b)
		}
	}
}
