package dataverse_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// An entity without change tracking is reported as ErrChangeTrackingDisabled,
// whether the service answers with error 0x80072491 or (the third-party
// observed symptom) with a plain read lacking a deltaLink.
func TestEmuUntrackedEntity(t *testing.T) {
	for _, noDeltaLink := range []bool{false, true} {
		name := "error code"
		if noDeltaLink {
			name = "no deltaLink"
		}
		t.Run(name, func(t *testing.T) {
			_, c := emuOrg(t, dvemu.Options{Records: 3, UntrackedNoDeltaLink: noDeltaLink}, nil)
			ctx := context.Background()
			e, err := c.Entity(ctx, "new_scratchnote")
			if err != nil {
				t.Fatal(err)
			}
			if e.ChangeTrackingEnabled {
				t.Error("metadata says tracked")
			}
			_, err = c.NewChangesPager(e, nil).NextPage(ctx)
			if !errors.Is(err, dataverse.ErrChangeTrackingDisabled) {
				t.Fatalf("err = %v, want ErrChangeTrackingDisabled", err)
			}
			var re *dataverse.ResponseError
			if !errors.As(err, &re) || re.Entity != "new_scratchnote" || re.Page != 1 {
				t.Errorf("error = %#v", err)
			}
		})
	}
}
