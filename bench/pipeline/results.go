package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

type section struct {
	size    int
	env     string
	started time.Time
	results []result
}

// describeMachine is the results' header: what ran, where.
func describeMachine(ctx context.Context, c config) (string, error) {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	pgVersion := "PostgreSQL (not reached)"
	if conn, err := pgx.Connect(ctx, c.pgURL); err == nil {
		_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&pgVersion)
		pgVersion = "PostgreSQL " + pgVersion
		conn.Close(ctx)
	}
	commit := "unknown commit"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			commit += " (with uncommitted changes)"
		}
	}
	return fmt.Sprintf("%s, %d cores%s, Linux %s; %s; %s; Azurite 3.35.0 (private instance); commit %s",
		cpu, runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version(), pgVersion, commit), nil
}

func (s section) title() string {
	return fmt.Sprintf("%s accounts and %s contacts (%s rows)", thousands(s.size), thousands(s.size), thousands(2*s.size))
}

func printSection(w io.Writer, c config, s section) {
	fmt.Fprintf(w, "\n<!-- size %d -->\n", s.size)
	fmt.Fprintf(w, "## %s\n\n", s.title())
	fmt.Fprintf(w, "Run %s on %s.\n\n", s.started.Format("2006-01-02 15:04 MST"), s.env)
	fmt.Fprintf(w, "Command: `%s`. Dataverse page size %d, poll every second (`*/1 * * * * *`), host.json as committed; PostgreSQL plan_cache_mode %s.\n\n",
		commandLine(c, s.size), c.pageSize, map[bool]string{true: "force_custom_plan (set on the benchmark's database)", false: "as configured on the server"}[c.customPlans])
	fmt.Fprintln(w, "| Destination | Source | Pipeline rows/s | Staged upsert rows/s | COPY / one-transaction insert rows/s | E | Messages (rows per message) | Runner: peak RSS, CPU s | Emulator: peak RSS, CPU s | Azurite: peak RSS, CPU s | Database CPU s |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range s.results {
		dbCPU := "in the runner (embedded)"
		if r.dest == "postgres" {
			dbCPU = fmt.Sprintf("%.1f (all postgres processes: %.1f)", r.dbCPU, r.pgAllCPU)
		}
		perMsg := "–"
		if r.messages > 0 {
			perMsg = fmt.Sprintf("%.0f", float64(r.pageRows)/float64(r.messages))
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.0f | %.2f | %d (%s) | %.0f MiB, %.1f | %.0f MiB, %.1f | %.0f MiB, %.1f | %s |\n",
			r.dest, r.source, r.pipelineRate(), r.upsertRate(), r.loadRate(), r.e(), r.messages, perMsg,
			r.runner.rss, r.runner.cpu, r.emu.rss, r.emu.cpu, r.azu.rss, r.azu.cpu, dbCPU)
	}
	fmt.Fprintln(w)
	for _, r := range s.results {
		base := "staged upsert"
		if r.dest == "sqlite" {
			base = "one-transaction insert"
		}
		verdict := "meets E ≥ 0.7"
		if r.e() < 0.7 {
			verdict = "misses E ≥ 0.7"
		}
		fmt.Fprintf(w, "- %s, %s source, %s rows per entity: **E = %.2f** against the %s (%s); pipeline %.1f s for %s rows; runner peak RSS %.0f MiB after the load, %.0f MiB after the delta phases.",
			r.dest, r.source, thousands(s.size), r.e(), base, verdict, r.pipeline.Seconds(), thousands(int(r.rows)), r.runner.rss, r.runnerRSSAfterDelta)
		if r.replayed != "" {
			fmt.Fprintf(w, " Replay: %s.", r.replayed)
		}
		fmt.Fprintln(w)
	}
	if len(s.results) > 0 && len(s.results[0].deltas) > 0 {
		fmt.Fprintln(w, "\nDelay from a change in the source (an update through the emulator's API) to the applied row (SinkModifiedOn), each change to another row:")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| Destination | Rate/s (achieved) | Changes | p50 | p95 | p99 | max | Drained after the last change | Max queue depth | Backlog bounded |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range s.results {
			for _, d := range r.deltas {
				drain := "not within the wait"
				if d.applied {
					drain = ms(d.drain)
				}
				fmt.Fprintf(w, "| %s | %d (%.0f) | %d | %s | %s | %s | %s | %s | %d | %s (median %s early, %s late) |\n",
					r.dest+" ("+r.source+" run)", d.rate, d.achieved, d.changes, ms(d.p50), ms(d.p95), ms(d.p99), ms(d.max), drain, d.maxQueue,
					map[bool]string{true: "yes", false: "no"}[d.bounded()], ms(d.early), ms(d.late))
			}
		}
	}
	for _, r := range s.results {
		if r.profile != "" {
			path := r.profile
			if rel, err := filepath.Rel(c.root, path); err == nil {
				path = rel
			}
			fmt.Fprintf(w, "\nCPU profile of the runner (%s), in the work folder (not committed): `go tool pprof -top %s`\n", r.dest, path)
		}
	}
	fmt.Fprintln(w, "<!-- end -->")
}

func commandLine(c config, size int) string {
	cmd := "make bench-pipeline"
	if size != 200000 {
		cmd += fmt.Sprintf(" ROWS=%d", size)
	}
	if src := strings.Join(c.sources, ","); src != "replay,live" {
		cmd += " BENCH_FLAGS=-source=" + src
	}
	return cmd
}

func ms(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var sectionRe = regexp.MustCompile(`(?s)\n?<!-- size (\d+) -->\n.*?<!-- end -->\n`)

const resultsHeader = `# Pipeline benchmark results

Written by ` + "`bench/pipeline`" + ` (see its README): one section per dataset size,
replaced when that size is run again. E = pipeline rows/s ÷ the
destination's own bulk rate for the same rows and tables, measured in the
same run, once before the pipeline and once after it (PostgreSQL: staged
upsert; SQLite: one-transaction insert; the baseline columns give the rate
over both passes). The machine is shared and small: compare ratios within
a section, not absolute figures across sections.

Source "live": the emulator renders every page of the initial read, on
the same two cores as the runner, Azurite and the database (about 150 ms
of CPU per 5,000-row page, as much as the pipeline spends on it). Source
"replay": the emulator's pages, recorded as the first baseline pass reads
them, are served from files; metadata, delta reads and the delta phases
stay live. In Azure the source is Dataverse on Microsoft's servers, so
replay is the pipeline's own cost; live is this machine as a whole.
`

// writeResults replaces the sections of the sizes run and keeps the others.
func writeResults(c config, sections []section) error {
	old, err := os.ReadFile(c.out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	kept := map[int]string{}
	for _, m := range sectionRe.FindAllStringSubmatch(string(old), -1) {
		var n int
		fmt.Sscan(m[1], &n)
		kept[n] = strings.TrimLeft(m[0], "\n")
	}
	for _, s := range sections {
		var b bytes.Buffer
		printSection(&b, c, s)
		kept[s.size] = strings.TrimLeft(b.String(), "\n")
	}
	var sizes []int
	for n := range kept {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	var out bytes.Buffer
	out.WriteString(resultsHeader)
	for _, n := range sizes {
		out.WriteString("\n")
		out.WriteString(kept[n])
	}
	return os.WriteFile(c.out, out.Bytes(), 0o644)
}
