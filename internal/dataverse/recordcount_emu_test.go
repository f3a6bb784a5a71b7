package dataverse_test

import (
	"errors"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// RetrieveTotalRecordCount through the client: each entity's live rows,
// deletes taken off; an unknown entity is an error, not a zero.
func TestRecordCounts(t *testing.T) {
	emu, c := emuOrg(t, dvemu.Options{Records: 7, RandSeed: 1}, nil)
	before := c.Stats().Requests
	got, err := c.RecordCounts(t.Context(), []string{"account", "contact"})
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Stats().Requests - before; n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if got["account"] != 7 || got["contact"] != 7 {
		t.Fatalf("counts %v, want 7 each", got)
	}
	ids := emu.IDs("account")
	if err := emu.Delete("account", ids[0]); err != nil {
		t.Fatal(err)
	}
	got, err = c.RecordCounts(t.Context(), []string{"account"})
	if err != nil || got["account"] != 6 {
		t.Fatalf("after a delete: %v, %v; want 6", got, err)
	}
	_, err = c.RecordCounts(t.Context(), []string{"new_nosuch"})
	var se *dataverse.ResponseError
	if err == nil || !errors.As(err, &se) {
		t.Fatalf("unknown entity: %v, want a service error", err)
	}
}
