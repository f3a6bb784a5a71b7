package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

func open(t *testing.T, o sink.Options) sinktest.Target {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "dest.db"), &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSuite(t *testing.T) { sinktest.Run(t, open) }

// The path is the profile's connection, a secret like any other: errors do
// not repeat it.
func TestOpenErrorsHidePath(t *testing.T) {
	tests := []string{
		filepath.Join(t.TempDir(), "no", "such", "dir", "secretname.db"),
		"secret?name.db",
		"",
	}
	for _, path := range tests {
		_, err := Open(t.Context(), path, nil)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", path)
		}
		if path != "" && strings.Contains(err.Error(), "secret") {
			t.Errorf("error reveals the path: %v", err)
		}
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), &sink.Options{Schema: "other"}); err == nil {
		t.Error("Open with a schema other than main succeeded")
	}
}
