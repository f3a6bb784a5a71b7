package sync

import (
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
)

// A delta read that returns a record both as a row and as deleted (deleted,
// then restored or created again with the same id) keeps the row: the
// delete, stamped above the row's version, would remove a live record.
func TestDropRevived(t *testing.T) {
	const a, b, c = "6a7e0f9c-0000-4000-8000-00000000000a", "6a7e0f9c-0000-4000-8000-00000000000b", "6a7e0f9c-0000-4000-8000-00000000000c"
	seen := map[string]struct{}{}
	first := &dataverse.ChangesPage{Delta: true, Upserts: []record.Record{{ID: a, Version: 5}}, Deletes: []string{b}}
	dropRevived(first, seen)
	if !slices.Equal(first.Deletes, []string{b}) {
		t.Fatalf("first page deletes %v, want [b]", first.Deletes)
	}
	// A later page of the same read: a's delete (upper case, as the Web API
	// may send it) is stale, c's is not.
	second := &dataverse.ChangesPage{Delta: true, Deletes: []string{"6A7E0F9C-0000-4000-8000-00000000000A", c}}
	dropRevived(second, seen)
	if !slices.Equal(second.Deletes, []string{c}) {
		t.Fatalf("second page deletes %v, want [c]", second.Deletes)
	}
}
