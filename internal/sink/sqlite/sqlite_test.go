package sqlite

import (
	"path/filepath"
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
