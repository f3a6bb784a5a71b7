package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/state"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runProfile(context.Background(), args, &out, &errOut, slog.New(slog.DiscardHandler))
	return out.String(), errOut.String(), err
}

// -h needs no settings at all, for the command and for every subcommand.
func TestProfileHelpWithoutSettings(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"-h"}, {"create", "-h"}, {"status", "--help"}} {
		_, errOut, err := runCLI(t, args...)
		if err != nil || !strings.Contains(errOut, "usage: dataexport profile") || !strings.Contains(errOut, "activate NAME") {
			t.Errorf("%v: %v, %q", args, err, errOut)
		}
	}
	if _, _, err := runCLI(t); err == nil {
		t.Error("no command: no error")
	}
	if _, _, err := runCLI(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
	if _, _, err := runCLI(t, "show"); err == nil || !strings.Contains(err.Error(), "NAME") {
		t.Errorf("missing NAME: %v", err)
	}
}

// The CLI works over the management service with the tables that serve
// uses (STATE_PROFILES_TABLE, STATE_ENTITIES_TABLE), takes flags before or
// after the arguments, prints tables or JSON, and never a secret.
func TestProfileCommands(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 2, RandSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(emu)
	defer org.Close()
	id := azuritetest.UniqueName("")
	profiles, entities := "cliprofiles"+id, "clientities"+id
	for k, v := range map[string]string{
		"AzureWebJobsStorage": "UseDevelopmentStorage=true", "DATAVERSE_URL": org.URL, "DATAVERSE_TOKEN": dvemu.DefaultToken,
		"DATAVERSE_REQUESTS_PER_SECOND": "-1", "RECORDS_QUEUE": "cli" + id, "LOCAL_DEVELOPMENT": "true",
		"STATE_PROFILES_TABLE": profiles, "STATE_ENTITIES_TABLE": entities, "FAILURES_CONTAINER_PREFIX": "cli" + strings.ToLower(id[:8]) + "-",
		"HOST_JSON": filepath.Join("..", "..", "host.json"),
	} {
		t.Setenv(k, v)
	}
	svc, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{profiles, entities} {
			_, _ = svc.DeleteTable(context.Background(), n, nil)
		}
	})
	dir := t.TempDir()
	doc := filepath.Join(dir, "crm.json")
	const secret = "S3CRETPW"
	body := `{"name":"crm","entities":["account","contact"],"destination":{"type":"postgres","connection":"postgres://postgres:` + secret + `@127.0.0.1:5432/test?sslmode=disable"}}`
	if err := os.WriteFile(doc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	settingsFlag := "--settings=" + filepath.Join(dir, "none.json")
	var all strings.Builder
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := runCLI(t, append(args, settingsFlag)...)
		all.WriteString(out + errOut)
		if err != nil {
			all.WriteString(err.Error())
			t.Fatalf("%v: %v\n%s%s", args, err, out, errOut)
		}
		return out
	}
	// Flags after the argument, and before it.
	out := run("create", "--file", doc)
	if !strings.Contains(out, "Inactive") || !strings.Contains(out, "connection string in the profile") {
		t.Fatalf("create: %s", out)
	}
	out = run("list")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "crm") || !strings.Contains(out, "account,contact") {
		t.Fatalf("list: %s", out)
	}
	out = run("show", "crm", "--json")
	var v struct {
		Name, State, ETag string
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Name != "crm" || v.State != "Inactive" || v.ETag == "" {
		t.Fatalf("show --json: %v %s", err, out)
	}
	if _, _, err := runCLI(t, "activate", "--if-match", `W/"stale"`, "crm", settingsFlag); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("stale activate: %v", err)
	}
	if out = run("--json", "activate", "crm", "--if-match", v.ETag); !strings.Contains(out, `"state": "Active"`) {
		t.Fatalf("activate: %s", out)
	}
	out = run("status", "crm")
	if !strings.Contains(out, "Failed Notifications 0") || !strings.Contains(out, "notStarted") {
		t.Fatalf("status: %s", out)
	}
	out = run("entities")
	if !strings.Contains(out, "activitypointer") || !strings.Contains(out, "phonecall, appointment, email and task") {
		t.Fatalf("entities: %s", out)
	}
	out = run("test", "crm")
	if !strings.Contains(out, "WARN") || !strings.Contains(out, "not using Key Vault") || !strings.Contains(out, "every check passed") {
		t.Fatalf("test: %s", out)
	}
	// The service, not the CLI, keeps the profile: serve's tables hold it.
	store, err := state.NewStore(context.Background(), svc, &state.Options{ProfilesTable: profiles, EntitiesTable: entities})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := store.GetProfile(context.Background(), "crm"); err != nil || !p.IsActive() {
		t.Fatalf("in STATE_PROFILES_TABLE: %+v, %v", p.Redacted(), err)
	}
	// A misspelt field is refused, naming it.
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"name":"crm2","entities":["account"],"retrycount":3,"destination":{"type":"sqlite","connection":"x.db"}}`), 0o600)
	if _, _, err := runCLI(t, "validate", "--file", bad, settingsFlag); err == nil || !strings.Contains(err.Error(), `/retrycount`) || !strings.Contains(err.Error(), "retryCount") {
		t.Fatalf("validate with a misspelt field: %v", err)
	}
	// The recovery commands: nothing failed, nothing polled yet.
	out = run("failures", "crm", "--lines", "5")
	if !strings.Contains(out, "0 failed records") || !strings.Contains(out, "read-only URL") || !strings.Contains(out, "sp=rl") {
		t.Fatalf("failures: %s", out)
	}
	if out = run("resync-failures", "crm"); !strings.Contains(out, "0 failed records resolved") {
		t.Fatalf("resync-failures: %s", out)
	}
	if out = run("resync", "crm", "account", "--json"); !strings.Contains(out, `"previousPhase": "notStarted"`) {
		t.Fatalf("resync: %s", out)
	}
	if _, _, err := runCLI(t, "resync", "crm", settingsFlag); err == nil || !strings.Contains(err.Error(), "resync-failures crm") {
		t.Fatalf("resync without an entity: %v", err)
	}
	if _, _, err := runCLI(t, "reconcile", "crm", "lead", settingsFlag); err == nil || !strings.Contains(err.Error(), "not part of profile") {
		t.Fatalf("reconcile of an entity not in the profile: %v", err)
	}
	if _, _, err := runCLI(t, "failures", "crm", "--url-hours", "48", settingsFlag); err == nil || !strings.Contains(err.Error(), "1 to 24 hours") {
		t.Fatalf("failures --url-hours 48: %v", err)
	}
	out = run("delete", "crm")
	if !strings.Contains(out, "destination tables are kept") {
		t.Fatalf("delete: %s", out)
	}
	if strings.Contains(all.String(), secret) {
		t.Fatalf("the CLI printed the password:\n%s", all.String())
	}
}
