package tests

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dvemu"
)

var (
	shBlock    = regexp.MustCompile("(?s)```sh\n(.*?)```")
	assignment = regexp.MustCompile(`^[A-Z_]+=`)
)

// readmeBlocks are the shell blocks of README.md between the
// readme-test markers.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "<!-- readme-test:begin -->")
	end := strings.Index(text, "<!-- readme-test:end -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no readme-test section")
	}
	var out []string
	for _, m := range shBlock.FindAllStringSubmatch(text[start:end], -1) {
		out = append(out, m[1])
	}
	if len(out) < 5 {
		t.Fatalf("%d shell blocks in the readme-test section", len(out))
	}
	return out
}

// TestReadmeExamples runs the README's curl and CLI examples, as written,
// against a live `dataexport run` (only the port differs), and checks what
// they print.
func TestReadmeExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the README's examples use curl, which is not installed: %v", err)
	}
	blocks := readmeBlocks(t)
	emu, err := dvemu.New(dvemu.Options{Records: 9, RandSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(emu)
	t.Cleanup(org.Close)
	dir := t.TempDir()
	id := uniqueSuffix()
	env := map[string]string{
		"AzureWebJobsStorage":           "UseDevelopmentStorage=true",
		"DATAVERSE_URL":                 org.URL,
		"DATAVERSE_TOKEN":               dvemu.DefaultToken,
		"DATAVERSE_REQUESTS_PER_SECOND": "-1",
		"POLL_SCHEDULE":                 "*/1 * * * * *",
		"SCHEMA_SCHEDULE":               "*/1 * * * * *",
		"RECORDS_QUEUE":                 "readme-" + id,
		"STATE_PROFILES_TABLE":          "readmeprofiles" + id,
		"STATE_ENTITIES_TABLE":          "readmeentities" + id,
		"FAILURES_CONTAINER_PREFIX":     "rd" + id[:6] + "-",
		"LOCAL_DEVELOPMENT":             "true",
		"ADMIN_API_KEY":                 "readme-admin-key-" + id,
	}
	ctl := &controlEnv{profilesTable: env["STATE_PROFILES_TABLE"], entitiesTable: env["STATE_ENTITIES_TABLE"], queue: env["RECORDS_QUEUE"]}
	t.Cleanup(ctl.dropStorage)
	run := startRun(t, dir, env)
	// bin/dataexport, as the README calls it, is the binary under test.
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dataexportBinary(t), filepath.Join(dir, "bin", "dataexport")); err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(run.API, "/api")
	// Each block runs in a shell of its own, as a reader pastes it, with the
	// variables the first block sets.
	var vars []string
	for _, line := range strings.Split(blocks[0], "\n") {
		if assignment.MatchString(line) {
			vars = append(vars, line)
		}
	}
	var outputs []string
	for i, block := range blocks {
		script := "set -euo pipefail\n" + block
		if i > 0 {
			script = "set -euo pipefail\n" + strings.Join(vars, "\n") + "\n" + block
		}
		script = strings.ReplaceAll(script, "http://127.0.0.1:7071", base)
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir, cmd.Env = dir, run.env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README block %d failed: %v\n--- block\n%s\n--- output\n%s\n--- run log\n%s", i+1, err, block, out, run.logs())
		}
		outputs = append(outputs, string(out))
	}
	// What each block must have shown.
	expect := []struct {
		block int
		says  []string
	}{
		{0, []string{`"logicalName": "contact"`, `"changeTrackingEnabled": true`}},
		{1, []string{`"valid": true`, `"state": "Inactive"`, `"status": "warn"`, `"state": "Active"`}},
		{2, []string{`"phase": "delta"`, `"rowsRead": 9`, `"rowsApplied": 9`, `"pending": 0`, `"failedNotifications": 0`}},
		{3, []string{`"lead"`, `"status": 412`}},
		{4, []string{`"state": "Inactive"`, `"destinationTablesKept": true`}},
		{5, []string{"crm   Active", "every check passed", "Failed Notifications 0", "profile crm is Inactive", "destination tables are kept"}},
	}
	for _, e := range expect {
		for _, want := range e.says {
			if !strings.Contains(outputs[e.block], want) {
				t.Errorf("README block %d does not print %q:\n%s", e.block+1, want, outputs[e.block])
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "crm.db")); err != nil {
		t.Errorf("the destination crm.db was not written (or not kept): %v", err)
	}
}
