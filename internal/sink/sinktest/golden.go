package sinktest

import (
	"os"
	"path/filepath"
	"testing"
)

// Golden compares got with the file at path, or rewrites the file when
// update is set (each dialect's tests declare their own -update flag).
func Golden(t *testing.T, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the generated text (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
