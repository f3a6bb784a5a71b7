package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/schema"
)

var entities = []string{"account", "contact"}

// markerColumn is the string column a delta phase writes its markers to.
var markerColumn = map[string]string{"account": "name", "contact": "lastname"}

// usage is one process's resources over the initial load.
type usage struct {
	cpu, rss float64 // CPU seconds, peak RSS MiB
}

type result struct {
	dest                string
	source              string // replay or live
	replayed            string // what the replay served, when it did
	rows                int64  // total rows loaded (both entities)
	baselineRows        int64  // rows the baseline loaded, over both passes
	pipeline            time.Duration
	upsert, load        time.Duration // baseline: staged upsert, plain load
	messages, pageRows  int64         // sent, and rows they carried, during the initial load
	runner, emu, azu    usage
	dbCPU, pgAllCPU     float64 // database backends of the benchmark; every postgres process
	runnerRSSAfterDelta float64
	deltas              []deltaResult
	profile             string // pprof file, when taken
}

func (r result) pipelineRate() float64 { return float64(r.rows) / r.pipeline.Seconds() }
func (r result) upsertRate() float64   { return float64(r.baselineRows) / r.upsert.Seconds() }
func (r result) loadRate() float64     { return float64(r.baselineRows) / r.load.Seconds() }

// baselineRate is what E is measured against: PostgreSQL's staged upsert,
// SQLite's one-transaction insert.
func (r result) baselineRate() float64 {
	if r.dest == "postgres" {
		return r.upsertRate()
	}
	return r.loadRate()
}

func (r result) e() float64 { return r.pipelineRate() / r.baselineRate() }

func runOne(ctx context.Context, c config, n int, destName, source string) (result, error) {
	res := result{dest: destName, source: source}
	id := newID()
	work, err := filepath.Abs(filepath.Join(c.work, fmt.Sprintf("%d-%s-%s", n, destName, id)))
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return res, err
	}
	log.Printf("== %d rows per entity into %s, %s source (work folder %s)", n, destName, source, work)

	azu, err := startAzurite(ctx, c.root, filepath.Join(work, "azurite"))
	if err != nil {
		return res, err
	}
	defer func() {
		azu.stop()
		// Its folder holds every unit the run wrote (gigabytes at
		// 1,000,000 rows); the logs and profiles stay.
		if !c.keep {
			os.RemoveAll(filepath.Join(work, "azurite"))
		}
	}()

	emuPort, err := freePort()
	if err != nil {
		return res, err
	}
	emu, err := start("emulator", filepath.Join(work, "emulator.log"), nil, c.bin, "emulator",
		"--addr", fmt.Sprintf("127.0.0.1:%d", emuPort), "--records", strconv.Itoa(n), "--rand-seed", "1",
		"--request-limit", "-1", "--concurrency-limit", "-1", "--execution-limit", "-1s")
	if err != nil {
		return res, err
	}
	defer emu.stop()
	if err := waitPort(ctx, emuPort, emu); err != nil {
		return res, err
	}
	org := fmt.Sprintf("http://127.0.0.1:%d", emuPort)
	emuOrg := org // the delta phases' writes go straight to the emulator
	var rp *replay
	if source == "replay" {
		if rp, err = startReplay(org, filepath.Join(work, "replay")); err != nil {
			return res, err
		}
		defer rp.close()
		org = rp.url()
	}
	src, err := dvClient(org, c.pageSize)
	if err != nil {
		return res, err
	}

	var dest destination
	switch destName {
	case "postgres":
		dest, err = newPG(ctx, c.pgURL, id, c.customPlans)
	case "sqlite":
		dest, err = newSQLite(filepath.Join(work, "sqlite"))
	}
	if err != nil {
		return res, err
	}
	defer func() {
		dest.close()
		if !c.keep {
			os.RemoveAll(filepath.Join(work, "sqlite")) // the SQLite destination, if any
		}
	}()

	// Baseline: the same rows and tables, the database's own bulk paths.
	tables, err := tablesOf(ctx, src, destName)
	if err != nil {
		return res, err
	}
	// The baseline runs before the pipeline and again after it; E uses
	// both, so a burst of other work on the shared machine during one of
	// them weighs half.
	baseline := func(pass string) error {
		var rows int64
		up, load, err := dest.baseline(ctx, pass, tables, func(yield func(string, *dataverse.ChangesPage) error) error {
			for _, ent := range entities {
				meta, err := src.Entity(ctx, ent)
				if err != nil {
					return err
				}
				pager := src.NewChangesPager(meta, nil)
				for pager.More() {
					p, err := pager.NextPage(ctx)
					if err != nil {
						return err
					}
					rows += int64(len(p.Upserts))
					if err := yield(ent, p); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		res.upsert += up
		res.load += load
		res.baselineRows += rows
		log.Printf("   baseline %s: %d rows; staged upsert %.0f rows/s, plain load %.0f rows/s", pass, rows, float64(rows)/up.Seconds(), float64(rows)/load.Seconds())
		return nil
	}
	if err := baseline("before"); err != nil {
		return res, err
	}
	if rp != nil {
		rp.freeze()
	}

	// The pipeline: the real binary with a profile from settings.
	typ, conn := dest.profile()
	queueName := "bench-" + id
	runnerEnv := []string{
		"AzureWebJobsStorage=" + azu.connString(),
		"DATAVERSE_URL=" + org,
		"DATAVERSE_TOKEN=" + dvemu.DefaultToken,
		"DATAVERSE_REQUESTS_PER_SECOND=-1",
		"DATAVERSE_PAGE_SIZE=" + strconv.Itoa(c.pageSize),
		"POLL_SCHEDULE=*/1 * * * * *",
		"SCHEMA_SCHEDULE=*/1 * * * * *",
		"RECORDS_QUEUE=" + queueName,
		"STATE_PROFILES_TABLE=benchprofiles" + id,
		"STATE_ENTITIES_TABLE=benchentities" + id,
		"FAILURES_CONTAINER_PREFIX=bench" + id + "-",
		"PROFILE_NAME=bench" + id,
		"PROFILE_ENTITIES=account,contact",
		"DESTINATION_TYPE=" + typ,
		"DESTINATION_CONNECTION=" + conn,
		"HOST_JSON=host.json",
		"QUEUE_TRANSPORT=storage",
		// The connection string is given in clear, as only local development allows.
		"LOCAL_DEVELOPMENT=true",
		"LOG_LEVEL=" + os.Getenv("BENCH_LOG_LEVEL"),
	}
	pprofPort := 0
	if c.pprof {
		if pprofPort, err = freePort(); err != nil {
			return res, err
		}
		runnerEnv = append(runnerEnv, fmt.Sprintf("DATAEXPORT_PPROF=127.0.0.1:%d", pprofPort))
	}
	cpu := newCPUMeter()
	fixed := []int{emu.pid(), azu.pid}
	cpu.sample(fixed, false)
	db := newCPUMeter()
	db.sample(dest.backends(ctx), false)
	pgAll := newCPUMeter()
	pgAll.sample(postgresPIDs(), false)
	runLog := filepath.Join(work, "runner.log")
	started := time.Now()
	runner, err := start("dataexport run", runLog, runnerEnv, c.bin, "run", "--settings", filepath.Join(work, "no-local-settings.json"), "--functions", "functions", "--host", "host.json")
	if err != nil {
		return res, err
	}
	defer runner.stop()
	runnerCPU := newCPUMeter()
	runnerCPU.sample([]int{runner.pid()}, true)
	profiled := make(chan string, 1)
	if c.pprof {
		go func() {
			path := filepath.Join(work, "runner.cpu.pprof")
			if err := fetchProfile(ctx, pprofPort, path, 20*time.Second); err != nil {
				log.Printf("   profile: %v", err)
				path = ""
			}
			profiled <- path
		}()
	} else {
		profiled <- ""
	}
	want := int64(n)
	deadline := started.Add(time.Duration(n/100+600) * time.Second) // far beyond 100 rows/s
	// Done when both entities' reads have reached their delta links (the
	// runner's poll lines say so) and the queue is empty; then the rows are
	// counted once to confirm. Cheap signals, sampled often: counting a
	// large table every few hundred milliseconds would itself slow the
	// pipeline down.
	qc, err := queueClient(azu.connString(), queueName)
	if err != nil {
		return res, err
	}
	logTail := &caughtUp{path: runLog, seen: map[string]bool{}}
	var loadedAt, lastCount time.Time
	for loadedAt.IsZero() {
		if err := runner.alive(); err != nil {
			return res, err
		}
		db.sample(dest.backends(ctx), true)
		pgAll.sample(postgresPIDs(), true)
		if logTail.all() && time.Since(lastCount) > 300*time.Millisecond {
			if p, err := qc.GetProperties(ctx, nil); err == nil && p.ApproximateMessagesCount != nil && *p.ApproximateMessagesCount == 0 {
				// Every row is there by the time the count starts.
				at := time.Now()
				lastCount = at
				done := true
				for _, ent := range entities {
					got, err := dest.count(ctx, ent)
					if err != nil {
						return res, fmt.Errorf("counting %s: %w", ent, err)
					}
					done = done && got >= want
				}
				if done {
					loadedAt = at
					break
				}
			}
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the pipeline did not load %d rows per entity by %v; see %s", n, deadline.Sub(started), runLog)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	res.pipeline = loadedAt.Sub(started)
	res.rows = 2 * want
	cpu.sample(fixed, false)
	runnerCPU.sample([]int{runner.pid()}, true)
	db.sample(dest.backends(ctx), true)
	pgAll.sample(postgresPIDs(), true)
	res.runner.cpu = runnerCPU.total()
	res.dbCPU, res.pgAllCPU = db.total(), pgAll.total()
	res.emu.cpu = cpuOf(cpu, emu.pid())
	res.azu.cpu = cpuOf(cpu, azu.pid)
	res.runner.rss, _ = peakRSS(runner.pid())
	res.emu.rss, _ = peakRSS(emu.pid())
	res.azu.rss, _ = peakRSS(azu.pid)
	if res.messages, res.pageRows, err = countMessages(runLog); err != nil {
		return res, err
	}
	log.Printf("   pipeline: %d rows in %v = %.0f rows/s; E = %.2f; %d messages", res.rows, res.pipeline.Round(time.Millisecond), res.pipelineRate(), res.e(), res.messages)
	res.profile = <-profiled

	// Delta phases on the same running pipeline.
	if len(c.rates) > 0 {
		drv, err := newDriver(ctx, emuOrg)
		if err != nil {
			return res, err
		}
		for _, rate := range c.rates {
			d, err := drv.phase(ctx, dest, qc, rate, c.driveFor)
			if err != nil {
				return res, fmt.Errorf("delta phase at %d/s: %w", rate, err)
			}
			log.Printf("   delta %d/s: achieved %.0f/s, p50 %v p95 %v p99 %v, drained %v after the last change, max queue %d",
				rate, d.achieved, d.p50, d.p95, d.p99, d.drain, d.maxQueue)
			res.deltas = append(res.deltas, d)
		}
	}
	res.runnerRSSAfterDelta, _ = peakRSS(runner.pid())
	runner.stop()
	if err := baseline("after"); err != nil {
		return res, err
	}
	if rp != nil {
		res.replayed = rp.summary()
		log.Printf("   replay: %s", res.replayed)
	}
	return res, nil
}

func cpuOf(m *cpuMeter, pid int) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[pid] - m.first[pid]
}

func dvClient(org string, pageSize int) (*dataverse.Client, error) {
	cred, err := dataverse.NewCredential(dataverse.AuthSettings{Method: dataverse.AuthStaticToken, Token: dvemu.DefaultToken})
	if err != nil {
		return nil, err
	}
	return dataverse.NewClient(org, cred, &dataverse.ClientOptions{RequestsPerSecond: -1, PageSize: pageSize})
}

// tablesOf maps the entities as the runner will (no prefix, the dialect's
// default schema).
func tablesOf(ctx context.Context, src *dataverse.Client, dialect string) ([]schema.Table, error) {
	schemaName := "public"
	if dialect == "sqlite" {
		schemaName = "main"
	}
	var out []schema.Table
	for _, ent := range entities {
		meta, err := src.Entity(ctx, ent)
		if err != nil {
			return nil, err
		}
		t, err := schema.Map(meta, schema.Options{Schema: schemaName})
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

var pollLine = regexp.MustCompile(`msg=poll .*upserts=(\d+) deletes=(\d+) messages=(\d+)`)

// countMessages adds up what the runner's poll log lines say it sent during
// the initial load and the delta phases.
func countMessages(path string) (messages, rows int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		m := pollLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		u, _ := strconv.ParseInt(m[1], 10, 64)
		d, _ := strconv.ParseInt(m[2], 10, 64)
		k, _ := strconv.ParseInt(m[3], 10, 64)
		rows += u + d
		messages += k
	}
	return messages, rows, sc.Err()
}

func fetchProfile(ctx context.Context, port int, path string, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2 * time.Second): // past start-up
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// caughtUp follows the runner's log for the poll lines that end each
// entity's initial read.
type caughtUp struct {
	path   string
	offset int64
	seen   map[string]bool
}

var caughtUpLine = regexp.MustCompile(`msg=poll .*entity=(\w+) .*caughtUp=true`)

func (c *caughtUp) all() bool {
	f, err := os.Open(c.path)
	if err == nil {
		defer f.Close()
		if _, err := f.Seek(c.offset, io.SeekStart); err == nil {
			r := bufio.NewReader(f)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break // a partial last line is read again next time
				}
				c.offset += int64(len(line))
				if m := caughtUpLine.FindStringSubmatch(line); m != nil {
					c.seen[m[1]] = true
				}
			}
		}
	}
	for _, ent := range entities {
		if !c.seen[ent] {
			return false
		}
	}
	return true
}
