package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dataexport/dataexport/internal/app"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/recovery"
	"github.com/dataexport/dataexport/internal/settings"
)

const profileUsage = `usage: dataexport profile <command> [flags] [arguments]

Export Profiles, through the management service (the same operations as
the HTTP API). Flags may come before or after the arguments.

commands:
  list                          the profiles: state, destination, entities
  show NAME                     one profile: its document, state and ETag
  create --file F [--activate]  create a profile from a JSON document (F or - for stdin),
                                Inactive unless --activate
  update NAME --file F          replace a profile's document [--if-match ETAG]
  put --file F                  create (Active), or update if it exists
  validate --file F             check a document without saving it
  delete NAME                   delete a profile, its state and failed records;
                                the destination tables stay [--if-match ETAG]
  activate NAME                 start replicating (resumes from the saved positions)
  deactivate NAME               stop polling (queued changes are still applied)
  test NAME                     check secret, destination, permissions, entities (exit 1 if one fails)
  status NAME                   state, Failed Notifications, each entity's phase, counters, lag
  entities                      the org's tables: change tracking, eligibility; N:N relationships
  failures NAME                 failed records: counts per entity, the latest failure and resync
                                log lines, a read-only URL of them (valid 24 h) [--lines N] [--url-hours H]
  resync-failures NAME          read the failed records again from Dataverse and apply them; those
                                refused again are logged under forcerefreshfailurelog/ (exit 1) [--entity E]
  resync NAME ENTITY            read the entity again in full over its table (nothing is dropped; rows
                                the source no longer has are removed when the read is done)
  reconcile NAME ENTITY         compare the table with the source by id and version: counts, and the
                                missing, extra and stale ids [--limit N]
  rebaseline NAME ENTITY        drop the entity's table and read it again in full
  cleanup NAME ENTITY           drop the table of an entity removed from the profile
  cleanup-columns NAME ENTITY   list (--apply: drop) the columns of removed attributes

flags:
  --settings F   settings file (default local.settings.json; the environment wins)
  --json         print JSON instead of tables
  --file F       the profile document (create, update, put, validate)
  --activate     create: create and activate
  --if-match E   update, delete, activate, deactivate: only if the profile is still at ETag E
  --apply        cleanup-columns: drop the columns
  --entity E     resync-failures: only the failed records of entity E
  --lines N      failures: how many of the latest log lines to show (default 20)
  --url-hours H  failures: how long the read-only URL is valid, 1-24 (default 24)
  --limit N      reconcile: how many ids of each kind to list (default 20)

A profile document: {"name":"crm","entities":["account","contact"],
  "destination":{"type":"postgres","keyVaultSecretUrl":"https://<vault>.vault.azure.net/secrets/<name>"}}
`

// profileFlags are the flags of every profile command.
type profileFlags struct {
	settings, file, ifMatch, entity string
	asJSON, activate, apply         bool
	lines, urlHours, limit          int
}

// parseInterspersed parses flags wherever they are among the arguments and
// returns the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// cmdProfile runs a profile command. Output never shows a connection string.
func cmdProfile(ctx context.Context, args []string, log *slog.Logger) error {
	// The command prints what it did; the service's own log lines are
	// noise here unless LOG_LEVEL asks for them.
	if os.Getenv("LOG_LEVEL") == "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return runProfile(ctx, args, os.Stdout, os.Stderr, log)
}

func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var f profileFlags
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, profileUsage) }
	fs.StringVar(&f.settings, "settings", "local.settings.json", "settings file")
	fs.StringVar(&f.file, "file", "", "profile document")
	fs.StringVar(&f.ifMatch, "if-match", "", "ETag")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	fs.BoolVar(&f.activate, "activate", false, "create and activate")
	fs.BoolVar(&f.apply, "apply", false, "cleanup-columns: drop")
	fs.StringVar(&f.entity, "entity", "", "resync-failures: one entity")
	fs.IntVar(&f.lines, "lines", 0, "failures: log lines")
	fs.IntVar(&f.urlHours, "url-hours", 0, "failures: URL lifetime in hours")
	fs.IntVar(&f.limit, "limit", 0, "reconcile: ids of each kind")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, profileUsage)
		return errors.New("profile: a command is required")
	}
	verb, pos := pos[0], pos[1:]
	want := map[string]int{
		"list": 0, "entities": 0, "create": 0, "put": 0, "validate": 0,
		"show": 1, "get": 1, "update": 1, "delete": 1, "activate": 1, "deactivate": 1, "test": 1, "status": 1,
		"failures": 1, "resync-failures": 1,
		"rebaseline": 2, "cleanup": 2, "cleanup-columns": 2, "resync": 2, "reconcile": 2,
	}
	n, known := want[verb]
	if !known {
		fmt.Fprint(stderr, profileUsage)
		return fmt.Errorf("profile: unknown command %q", verb)
	}
	if verb == "resync" && len(pos) == 1 {
		return fmt.Errorf("profile resync: want NAME ENTITY (read an entity again in full); to resync the failed records of a profile: dataexport profile resync-failures %s", pos[0])
	}
	if len(pos) != n {
		return fmt.Errorf("profile %s: want %d argument(s) (%s), got %d; see dataexport profile -h", verb, n, argNames(n), len(pos))
	}
	var doc profile.Profile
	switch verb {
	case "create", "put", "validate", "update":
		if f.file == "" {
			return fmt.Errorf("profile %s: --file is required (a JSON profile document, or - for stdin)", verb)
		}
		if doc, err = readDocument(f.file); err != nil {
			return fmt.Errorf("profile %s: %w", verb, err)
		}
	}
	s, err := settings.Load(f.settings)
	if err != nil {
		return err
	}
	a, err := app.Build(ctx, s, log)
	if err != nil {
		return err
	}
	defer a.Close()
	svc := a.Manage
	out := &printer{w: stdout, json: f.asJSON}
	switch verb {
	case "list":
		vs, err := svc.List(ctx)
		if err != nil {
			return err
		}
		return out.profiles(vs)
	case "show", "get":
		v, err := svc.Get(ctx, pos[0])
		if err != nil {
			return err
		}
		return out.profile(v)
	case "create":
		v, err := svc.Create(ctx, doc, f.activate)
		if err != nil {
			return err
		}
		return out.profile(v)
	case "put":
		v, err := svc.Create(ctx, doc, true)
		if errors.Is(err, manage.ErrExists) {
			v, err = svc.Update(ctx, doc.Name, doc, f.ifMatch)
		}
		if err != nil {
			return err
		}
		if len(v.ReadAgainInFull) > 0 {
			fmt.Fprintf(stderr, "profile %s writes to a new destination: %v will be read again in full\n", v.Name, v.ReadAgainInFull)
		}
		return out.profile(v)
	case "update":
		v, err := svc.Update(ctx, pos[0], doc, f.ifMatch)
		if err != nil {
			return err
		}
		if len(v.ReadAgainInFull) > 0 {
			fmt.Fprintf(stderr, "profile %s writes to a new destination: %v will be read again in full\n", v.Name, v.ReadAgainInFull)
		}
		return out.profile(v)
	case "validate":
		if err := svc.Validate(ctx, doc); err != nil {
			return err
		}
		return out.message(map[string]any{"valid": true}, fmt.Sprintf("profile %s is valid", doc.Name))
	case "delete":
		r, err := svc.Delete(ctx, pos[0], f.ifMatch)
		if err != nil {
			return err
		}
		return out.message(r, fmt.Sprintf("profile %s deleted: %d state rows and the failed-records container %s removed; the destination tables are kept", r.Name, r.StateRowsDeleted, r.FailureContainer))
	case "activate", "deactivate":
		op := svc.Activate
		if verb == "deactivate" {
			op = svc.Deactivate
		}
		v, err := op(ctx, pos[0], f.ifMatch)
		if err != nil {
			return err
		}
		return out.message(v, fmt.Sprintf("profile %s is %s", v.Name, v.State))
	case "test":
		r, err := svc.Test(ctx, pos[0])
		if err != nil {
			return err
		}
		if err := out.test(r); err != nil {
			return err
		}
		if !r.OK {
			return fmt.Errorf("profile %s: a check failed", r.Profile)
		}
		return nil
	case "status":
		st, err := svc.Status(ctx, pos[0])
		if err != nil {
			return err
		}
		return out.status(st)
	case "entities":
		cat, err := svc.SourceEntities(ctx)
		if err != nil {
			return err
		}
		return out.catalog(cat)
	case "rebaseline", "cleanup":
		op := svc.Rebaseline
		if verb == "cleanup" {
			op = svc.Cleanup
		}
		if err := op(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		return out.message(map[string]any{"profile": pos[0], "entity": pos[1], "done": verb}, fmt.Sprintf("%s %s/%s: done", verb, pos[0], pos[1]))
	case "failures":
		r, err := svc.Failures(ctx, pos[0], manage.FailuresQuery{Lines: f.lines, URLHours: f.urlHours})
		if err != nil {
			return err
		}
		return out.failures(r)
	case "resync-failures":
		r, err := svc.ResyncFailures(ctx, pos[0], f.entity)
		if err != nil {
			return err
		}
		if err := out.resync(r); err != nil {
			return err
		}
		switch {
		case !r.OK:
			return fmt.Errorf("profile %s: the failed records of some entities could not be resynced (see above)", r.Profile)
		case r.FailedAgain > 0:
			return fmt.Errorf("profile %s: %d failed records were refused again; fix the cause and run it again", r.Profile, r.FailedAgain)
		}
		return nil
	case "resync":
		r, err := svc.ResyncEntity(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		return out.message(r, fmt.Sprintf("%s/%s (was %s): %s", r.Profile, r.Entity, r.PreviousPhase, r.Description))
	case "reconcile":
		r, err := svc.Reconcile(ctx, pos[0], pos[1], f.limit)
		if err != nil {
			return err
		}
		return out.reconcile(r)
	case "cleanup-columns":
		cols, err := svc.CleanupColumns(ctx, pos[0], pos[1], f.apply)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("%s/%s: columns of removed attributes: %v (run again with --apply to drop them)", pos[0], pos[1], cols)
		switch {
		case len(cols) == 0:
			msg = fmt.Sprintf("%s/%s: no columns of removed attributes", pos[0], pos[1])
		case f.apply:
			msg = fmt.Sprintf("%s/%s: dropped %v", pos[0], pos[1], cols)
		}
		return out.message(map[string]any{"columns": cols, "dropped": f.apply && len(cols) > 0}, msg)
	}
	return nil
}

func argNames(n int) string {
	return [...]string{"none", "NAME", "NAME ENTITY"}[n]
}

// readDocument reads a profile document strictly (exact field names).
func readDocument(path string) (profile.Profile, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, profile.MaxDocumentBytes+1))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return profile.Profile{}, err
	}
	p, err := profile.Decode(b)
	if err != nil {
		return profile.Profile{}, manage.Invalid(fmt.Errorf("%s: %w", path, err))
	}
	return p, nil
}

// printer prints results as tables or, with --json, as JSON.
type printer struct {
	w    io.Writer
	json bool
}

func (p *printer) encode(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (p *printer) table(header string, rows [][]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func (p *printer) message(v any, text string) error {
	if p.json {
		return p.encode(v)
	}
	_, err := fmt.Fprintln(p.w, text)
	return err
}

func destinationText(v manage.ProfileView) string {
	if v.UsesKeyVault {
		return v.Profile.Destination.Type + " (Key Vault " + v.Profile.Destination.KeyVaultSecretURL + ")"
	}
	return v.Profile.Destination.Type + " (connection string in the profile)"
}

func (p *printer) profiles(vs []manage.ProfileView) error {
	if p.json {
		if vs == nil {
			vs = []manage.ProfileView{}
		}
		return p.encode(map[string]any{"profiles": vs})
	}
	if len(vs) == 0 {
		_, err := fmt.Fprintln(p.w, "no profiles (create one: dataexport profile create --file F)")
		return err
	}
	var rows [][]string
	for _, v := range vs {
		rows = append(rows, []string{v.Name, string(v.State), destinationText(v), strings.Join(v.Profile.Entities, ",")})
	}
	return p.table("NAME\tSTATE\tDESTINATION\tENTITIES", rows)
}

func (p *printer) profile(v manage.ProfileView) error {
	if p.json {
		return p.encode(v)
	}
	count, interval := v.Profile.Retries()
	schema := v.Profile.SchemaOrDefault()
	rows := [][]string{
		{"name", v.Name}, {"state", string(v.State)}, {"etag", v.ETag},
		{"destination", destinationText(v)}, {"schema", schema}, {"prefix", v.Profile.Prefix},
		{"entities", strings.Join(v.Profile.Entities, ", ")},
		{"write delete log", fmt.Sprint(v.Profile.WriteDeleteLog)},
		{"retries", fmt.Sprintf("%d, every %d s", count, interval)},
	}
	if len(v.ReadAgainInFull) > 0 {
		rows = append(rows, []string{"read again in full", strings.Join(v.ReadAgainInFull, ", ")})
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func (p *printer) test(r manage.TestReport) error {
	if p.json {
		return p.encode(r)
	}
	var rows [][]string
	for _, c := range r.Checks {
		rows = append(rows, []string{strings.ToUpper(string(c.Status)), c.Name, c.Detail})
	}
	if err := p.table("RESULT\tCHECK\tDETAIL", rows); err != nil {
		return err
	}
	verdict := "every check passed"
	if !r.OK {
		verdict = "a check failed"
	}
	_, err := fmt.Fprintf(p.w, "profile %s: %s\n", r.Profile, verdict)
	return err
}

func (p *printer) status(st manage.ProfileStatus) error {
	if p.json {
		return p.encode(st)
	}
	fmt.Fprintf(p.w, "profile %s: %s, Failed Notifications %d\n", st.Name, st.State, st.FailedNotifications)
	var rows [][]string
	for _, e := range st.Entities {
		lag, last := "-", "-"
		if e.LagSeconds != nil {
			lag = (time.Duration(*e.LagSeconds * float64(time.Second))).Round(time.Millisecond).String()
		}
		if e.LastSuccessfulSync != nil {
			last = e.LastSuccessfulSync.Format(time.RFC3339)
		}
		errText := ""
		if e.LastError != nil {
			errText = e.LastError.Stage + ": " + e.LastError.Message
		}
		rows = append(rows, []string{e.Entity, string(e.Phase), fmt.Sprint(e.RowsRead), fmt.Sprint(e.RowsApplied), fmt.Sprint(e.Pending),
			fmt.Sprint(e.Succeeded), fmt.Sprint(e.Failed), fmt.Sprint(e.Deleted), last, lag, errText})
	}
	return p.table("ENTITY\tPHASE\tREAD\tAPPLIED\tPENDING\tSUCCEEDED\tFAILED\tDELETED\tLAST SYNC\tLAG\tLAST ERROR", rows)
}

func (p *printer) catalog(c manage.SourceCatalog) error {
	if p.json {
		return p.encode(c)
	}
	var rows [][]string
	for _, e := range c.Entities {
		ok := "yes"
		if !e.Eligible {
			ok = "no: " + e.Reason
		}
		rows = append(rows, []string{e.LogicalName, e.DisplayName, fmt.Sprint(e.ChangeTrackingEnabled), ok})
	}
	if err := p.table("ENTITY\tDISPLAY NAME\tCHANGE TRACKING\tEXPORTABLE", rows); err != nil {
		return err
	}
	if len(c.Relationships) == 0 {
		return nil
	}
	fmt.Fprintln(p.w)
	rows = rows[:0]
	for _, r := range c.Relationships {
		rows = append(rows, []string{r.SchemaName, r.Entity1 + " ↔ " + r.Entity2, r.IntersectEntity})
	}
	return p.table("N:N RELATIONSHIP\tBETWEEN\tINTERSECT ENTITY", rows)
}

func (p *printer) failures(r recovery.FailuresReport) error {
	if p.json {
		return p.encode(r)
	}
	fmt.Fprintf(p.w, "profile %s: %d failed records (Failed Notifications %d), %d failed metadata changes, %d unprocessable messages, in container %s\n",
		r.Profile, r.FailedRecords, r.FailedNotifications, r.MetadataFailures, r.UnprocessableMessages, r.Container)
	var rows [][]string
	for _, e := range r.Entities {
		rows = append(rows, []string{e.Entity, fmt.Sprint(e.FailedRecords), fmt.Sprint(e.FailedNotifications)})
	}
	if err := p.table("ENTITY\tFAILED RECORDS\tFAILED NOTIFICATIONS", rows); err != nil {
		return err
	}
	for _, part := range []struct {
		title string
		lines []failures.LogLine
	}{{"latest failures (failurelog/)", r.LatestFailures}, {"latest resync failures (forcerefreshfailurelog/)", r.LatestResyncFailures}} {
		if len(part.lines) == 0 {
			continue
		}
		fmt.Fprintf(p.w, "\n%s, newest first:\n", part.title)
		for _, l := range part.lines {
			fmt.Fprintln(p.w, "  "+l.Line)
		}
	}
	if r.URL != "" {
		fmt.Fprintf(p.w, "\nread-only URL of the failed records, valid until %s (Azure Storage Explorer: Connect to Azure Storage, paste it):\n%s\n", r.URLExpires.Format(time.RFC3339), r.URL)
	}
	if r.FailedRecords > 0 {
		fmt.Fprintf(p.w, "\nonce the cause is fixed: dataexport profile resync-failures %s\n", r.Profile)
	}
	return nil
}

func (p *printer) resync(r recovery.ResyncReport) error {
	if p.json {
		return p.encode(r)
	}
	var rows [][]string
	for _, e := range r.Entities {
		rows = append(rows, []string{e.Entity, fmt.Sprint(e.Records), fmt.Sprint(e.Resolved), fmt.Sprint(e.DeletedInSource), fmt.Sprint(e.FailedAgain), e.Err})
	}
	if len(rows) > 0 {
		if err := p.table("ENTITY\tRECORDS\tRESOLVED\tDELETED IN SOURCE\tFAILED AGAIN\tERROR", rows); err != nil {
			return err
		}
	}
	fmt.Fprintf(p.w, "profile %s: %d failed records resolved, %d failed again (logged under forcerefreshfailurelog/)", r.Profile, r.Resolved, r.FailedAgain)
	if r.Skipped > 0 {
		fmt.Fprintf(p.w, ", %d left alone (entities no longer exported)", r.Skipped)
	}
	if r.Remaining > 0 {
		fmt.Fprintf(p.w, ", %d remaining: run it again", r.Remaining)
	}
	fmt.Fprintln(p.w)
	for _, e := range r.Entities {
		for _, line := range e.Errors {
			fmt.Fprintf(p.w, "  %s %s\n", e.Entity, line)
		}
	}
	return nil
}

func (p *printer) reconcile(r recovery.ReconcileReport) error {
	if p.json {
		return p.encode(r)
	}
	verdict := "equal"
	if !r.Equal {
		verdict = fmt.Sprintf("differs in %d of %d buckets: %d missing, %d extra, %d stale", r.DifferingBuckets, r.Buckets, r.MissingCount, r.ExtraCount, r.StaleCount)
	}
	fmt.Fprintf(p.w, "%s/%s (%s): %d rows in the source, %d in the destination: %s\n", r.Profile, r.Entity, r.Table, r.SourceRows, r.DestinationRows, verdict)
	if r.Equal {
		return nil
	}
	var rows [][]string
	for _, id := range r.Missing {
		rows = append(rows, []string{"missing", id, "", ""})
	}
	for _, id := range r.Extra {
		rows = append(rows, []string{"extra", id, "", ""})
	}
	for _, s := range r.Stale {
		rows = append(rows, []string{"stale", s.ID, fmt.Sprint(s.SourceVersion), fmt.Sprint(s.DestinationVersion)})
	}
	if err := p.table("KIND\tID\tSOURCE VERSION\tDESTINATION VERSION", rows); err != nil {
		return err
	}
	if r.Note != "" {
		fmt.Fprintln(p.w, r.Note)
	}
	if r.DestinationAhead > 0 {
		fmt.Fprintf(p.w, "re-baseline: dataexport profile rebaseline %s %s\n", r.Profile, r.Entity)
		return nil
	}
	fmt.Fprintf(p.w, "to bring the table back in line without dropping it: dataexport profile resync %s %s\n", r.Profile, r.Entity)
	return nil
}
