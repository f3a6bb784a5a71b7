package claims

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/dataexport/dataexport/internal/azuritetest"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

func TestPutGet(t *testing.T) {
	c, err := azblob.NewClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(c, azuritetest.UniqueName("claims"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	big := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB, far over any queue limit
	for _, body := range [][]byte{big, []byte(`{"v":1}`)} {
		if err := s.PutClaim(ctx, "p/account/1.0-1.json", body); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetClaim(ctx, "p/account/1.0-1.json")
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("GetClaim = %d bytes, %v; want the %d bytes written last", len(got), err, len(body))
		}
	}
	// A missing blob says so in one line, and matches fs.ErrNotExist.
	_, err = s.GetClaim(ctx, "p/account/missing.json")
	if !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "p/account/missing.json") {
		t.Fatalf("GetClaim of a missing blob = %q, want one line naming it, matching fs.ErrNotExist", err)
	}
	other, err := NewStore(c, azuritetest.UniqueName("nocontainer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetClaim(ctx, "x.json"); !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("GetClaim from a missing container = %q", err)
	}
	if _, err := NewStore(nil, ""); err == nil {
		t.Fatal("NewStore(nil) returned no error")
	}
}
