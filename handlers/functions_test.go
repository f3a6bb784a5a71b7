package handlers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite functions/*/function.json from Functions")

// The function.json files are generated from Functions, the one list of
// the app's functions: each file must be exactly what the list says, and
// no folder may hold a function the list lacks. go test ./handlers -update
// rewrites them.
func TestFunctionJSONFiles(t *testing.T) {
	dir := filepath.Join("..", "functions")
	for _, fn := range Functions() {
		path := filepath.Join(dir, fn.Name, "function.json")
		want := FunctionJSON(fn)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (go test ./handlers -update writes it)", fn.Name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from Functions (go test ./handlers -update rewrites it):\n%s\nwant:\n%s", path, got, want)
		}
	}
	folders, err := filepath.Glob(filepath.Join(dir, "*", "function.json"))
	if err != nil {
		t.Fatal(err)
	}
	names := FunctionNames()
	for _, f := range folders {
		if n := filepath.Base(filepath.Dir(f)); !slices.Contains(names, n) {
			t.Errorf("%s: function %s is not in Functions", f, n)
		}
	}
	// What the files say is what the handler reads them as.
	b, err := LoadTriggerBindings(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range Functions() {
		if want := fn.Trigger.bindings()[0][0][1]; b[fn.Name] != want {
			t.Errorf("%s: trigger binding %q, want %q", fn.Name, b[fn.Name], want)
		}
	}
}
