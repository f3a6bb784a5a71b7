package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/dataexport/dataexport/internal/app"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/settings"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// cmdDemo runs the whole path on the embedded defaults: the emulator's sample
// org → standalone Functions host on Azurite → SQLite. It makes an insert, an
// update and a delete, waits until they arrive, and exits non-zero unless the
// destination equals the source, row by row and column by column.
func cmdDemo(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fs.String("dir", ".demo", "folder for the SQLite destination")
	records := fs.Int("records", 25, "sample rows per entity")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after this long")
	storage := fs.String("storage", "UseDevelopmentStorage=true", "storage connection (Azurite by default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	out := os.Stdout
	step := func(format string, a ...any) { fmt.Fprintf(out, "==> "+format+"\n", a...) }
	// Keep the log to warnings: the demo prints its own progress.
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	entities := []string{"account", "contact"}
	emu, err := dvemu.New(dvemu.Options{Records: *records, RandSeed: 42})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ectx, stopEmu := context.WithCancel(context.WithoutCancel(ctx))
	defer stopEmu()
	go serveHTTP(ectx, ln, emu)
	orgURL := "http://" + ln.Addr().String()
	step("Dataverse emulator at %s with %d accounts and %d contacts", orgURL, len(emu.IDs("account")), len(emu.IDs("contact")))

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	dbPath, _ := filepath.Abs(filepath.Join(*dir, "dataexport-demo.db"))
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(dbPath + suffix)
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	conn := app.StorageConnection(*storage)
	s := settings.FromMap(map[string]string{
		"AzureWebJobsStorage":  conn,
		"DATAVERSE_URL":        orgURL,
		"DATAVERSE_TOKEN":      dvemu.DefaultToken,
		"POLL_SCHEDULE":        "*/2 * * * * *",
		"RECORDS_QUEUE":        "demo-records-" + run,
		"STATE_PROFILES_TABLE": "demoprofiles" + run,
		"STATE_ENTITIES_TABLE": "demoentities" + run,
		"HOST_JSON":            repoFile("host.json"),
		// The demo's SQLite path is a plain connection string.
		"LOCAL_DEVELOPMENT": "true",
	})
	defer cleanupDemoStorage(conn, s)
	c, err := app.Build(ctx, s, quiet)
	if err != nil {
		return fmt.Errorf("%w (is Azurite running? make demo starts it)", err)
	}
	defer c.Close()

	prof := profile.Profile{Name: "demo", Entities: entities, Destination: profile.Destination{Type: profile.SQLite, Connection: dbPath}, WriteDeleteLog: true}
	if _, err := c.Manage.Create(ctx, prof, true); err != nil {
		return err
	}
	step("profile %q: %s → SQLite %s", prof.Name, strings.Join(entities, ", "), dbPath)

	h, _, stopHandler, err := c.StartLocal(ctx, s, repoFile("functions"), repoFile("host.json"), quiet)
	if err != nil {
		return err
	}
	defer stopHandler()
	hctx, stopHost := context.WithCancel(ctx)
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(hctx) }()
	defer func() { stopHost(); <-hostDone }()
	step("standalone Functions host: ChangePoller every 2 s, RecordApplierQueue on queue %s", s.Get("RECORDS_QUEUE"))

	snk, err := c.Pool.Sink(ctx, prof)
	if err != nil {
		return err
	}
	reader, ok := snk.(sink.Reader)
	if !ok {
		return errors.New("the SQLite sink cannot read rows back")
	}
	check := &demoCheck{emu: emu, src: c.Source, reader: reader, prof: prof, store: c.Store, entities: entities}

	step("initial sync")
	if err := check.waitMatch(ctx, out); err != nil {
		return err
	}

	step("changes in Dataverse: insert, update, delete")
	acct, err := emu.Create("account", map[string]any{"name": "Northwind Traders (demo)", "revenue": "125000.5000", "numberofemployees": 42})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "    inserted account %s\n", acct)
	cont, err := emu.Create("contact", map[string]any{"firstname": "Ada", "lastname": "Lovelace", "parentcustomerid": dvemu.Ref{Entity: "account", ID: acct}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "    inserted contact %s (parent customer: the new account)\n", cont)
	// The account renamed and the contact deleted are ones no other record
	// points to: a lookup's name column is a copy taken when the pointing
	// row is read, and Dataverse reports no change of that row when its
	// target is renamed or deleted, so the destination would keep the old
	// name (as DES did) and differ from a fresh read of the source.
	referenced := referencedIDs(emu, entities)
	upd := pickOther(emu.IDs("account"), acct, referenced)
	if err := emu.Update("account", upd, map[string]any{"name": "Contoso (renamed by the demo)", "creditonhold": true}); err != nil {
		return err
	}
	fmt.Fprintf(out, "    updated account %s\n", upd)
	del := pickOther(emu.IDs("contact"), cont, referenced)
	if err := emu.Delete("contact", del); err != nil {
		return err
	}
	fmt.Fprintf(out, "    deleted contact %s\n", del)

	step("delta sync")
	if err := check.waitMatch(ctx, out); err != nil {
		return err
	}
	// The applier's counters are written once a second; the summary shows them.
	if err := c.Counters.Flush(ctx); err != nil {
		return err
	}
	return check.summary(ctx, out)
}

type demoCheck struct {
	emu      *dvemu.Emulator
	src      *dataverse.Client
	reader   sink.Reader
	prof     profile.Profile
	store    *state.Store
	entities []string
}

// waitMatch polls until every entity's destination equals its source, or ctx ends.
func (d *demoCheck) waitMatch(ctx context.Context, out io.Writer) error {
	var last string
	for {
		ok, progress, err := d.compare(ctx)
		if err == nil && ok {
			fmt.Fprintf(out, "    %s: destination equals source\n", progress)
			return nil
		}
		if progress != last {
			fmt.Fprintf(out, "    %s\n", progress)
			last = progress
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("destination did not converge: %w", err)
			}
			return fmt.Errorf("destination did not converge (%s): %w", progress, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// compare reads each entity from the Dataverse Web API and from the destination.
func (d *demoCheck) compare(ctx context.Context) (bool, string, error) {
	all := true
	var parts []string
	for _, name := range d.entities {
		src, cols, err := readSource(ctx, d.src, name)
		if err != nil {
			return false, "", err
		}
		table := schema.Options{Schema: d.prof.SchemaOrDefault(), Prefix: d.prof.Prefix}.TableName(name)
		dst, err := d.reader.Rows(ctx, table, cols)
		if err != nil {
			parts = append(parts, fmt.Sprintf("%s: %d/? rows", name, len(src)))
			all = false
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d rows", name, len(dst), len(src)))
		if diff := record.Diff(src, dst); diff != "" {
			all = false
		}
	}
	return all, strings.Join(parts, ", "), nil
}

// readSource does a full read of an entity through the Web API.
func readSource(ctx context.Context, c *dataverse.Client, name string) ([]record.Record, []record.Column, error) {
	meta, err := c.Entity(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	var rows []record.Record
	var cols []record.Column
	p := c.NewChangesPager(meta, nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		cols = page.Columns
		rows = append(rows, page.Upserts...)
	}
	if cols == nil {
		for _, f := range dataverse.Fields(meta) {
			cols = append(cols, f.Column)
		}
	}
	return rows, cols, nil
}

func (d *demoCheck) summary(ctx context.Context, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entity\trows in source\trows in destination\tdeletes applied\tmatch\t")
	allOK := true
	for _, name := range d.entities {
		src, cols, err := readSource(ctx, d.src, name)
		if err != nil {
			return err
		}
		table := schema.Options{Schema: d.prof.SchemaOrDefault(), Prefix: d.prof.Prefix}.TableName(name)
		dst, err := d.reader.Rows(ctx, table, cols)
		if err != nil {
			return err
		}
		cnt, _ := d.store.GetCounters(ctx, d.prof.Name, name)
		diff := record.Diff(src, dst)
		match := "yes"
		if diff != "" {
			match, allOK = "NO", false
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", name, len(src), len(dst), cnt.Deleted, match)
	}
	tw.Flush()
	if !allOK {
		return errors.New("destination differs from source")
	}
	fmt.Fprintln(out, "source and destination match.")
	return nil
}

func cleanupDemoStorage(conn string, s *settings.Settings) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if svc, err := aztables.NewServiceClientFromConnectionString(conn, nil); err == nil {
		_, _ = svc.DeleteTable(ctx, s.Get("STATE_PROFILES_TABLE"), nil)
		_, _ = svc.DeleteTable(ctx, s.Get("STATE_ENTITIES_TABLE"), nil)
	}
	if q, err := azqueue.NewQueueClientFromConnectionString(conn, s.Get("RECORDS_QUEUE"), nil); err == nil {
		_, _ = q.Delete(ctx, nil)
	}
}

// pickOther returns the first id that is neither skip nor in avoid: a
// record of the sample data (the first one not skip when all are avoided).
func pickOther(ids []string, skip string, avoid map[string]bool) string {
	for _, id := range ids {
		if id != skip && !avoid[id] {
			return id
		}
	}
	for _, id := range ids {
		if id != skip {
			return id
		}
	}
	return skip
}

// referencedIDs are the ids some lookup of the entities' rows points to.
func referencedIDs(emu *dvemu.Emulator, entities []string) map[string]bool {
	out := map[string]bool{}
	for _, ent := range entities {
		for _, id := range emu.IDs(ent) {
			vals, _ := emu.Get(ent, id)
			for _, v := range vals {
				if ref, ok := v.(dvemu.Ref); ok {
					out[ref.ID] = true
				}
			}
		}
	}
	return out
}
