package claims

import (
	"bytes"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/dataexport/dataexport/internal/azuritetest"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

func newStore(t *testing.T) (*Store, *azblob.Client) {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(c, azuritetest.UniqueName("claims"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.DeleteContainer(t.Context(), s.Container(), nil) })
	return s, c
}

func TestPutGetDelete(t *testing.T) {
	s, c := newStore(t)
	ctx := t.Context()
	if _, err := s.GetClaim(ctx, "p/account/missing.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("GetClaim before the container exists = %v, want fs.ErrNotExist", err)
	}
	big := bytes.Repeat([]byte(`["0123456789",42,true],`), 200_000) // 4.6 MB, far over any queue limit
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
	_, err := s.GetClaim(ctx, "p/account/missing.json")
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
	// Stored compressed: the blob itself is much smaller than the body.
	if err := s.PutClaim(ctx, "p/account/2.0-1.json", big); err != nil {
		t.Fatal(err)
	}
	props, err := c.ServiceClient().NewContainerClient(s.Container()).NewBlobClient("p/account/2.0-1.json").GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if props.ContentLength == nil || *props.ContentLength > int64(len(big)/5) || props.ContentEncoding == nil || *props.ContentEncoding != "zstd" {
		t.Fatalf("stored blob: %v bytes, encoding %v; want zstd, under a fifth of %d", props.ContentLength, props.ContentEncoding, len(big))
	}
	names, err := s.List(ctx, "p/account/")
	if err != nil || !slices.Equal(names, []string{"p/account/1.0-1.json", "p/account/2.0-1.json"}) {
		t.Fatalf("List = %v, %v", names, err)
	}
	for range 2 { // deleting what is gone is fine
		if err := s.DeleteClaim(ctx, "p/account/1.0-1.json"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetClaim(ctx, "p/account/1.0-1.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("GetClaim after DeleteClaim = %v, want fs.ErrNotExist", err)
	}
	if _, err := NewStore(nil, ""); err == nil {
		t.Fatal("NewStore(nil) returned no error")
	}
}

// A body written before compression (no Content-Encoding) reads as it is.
func TestReadsUncompressedBodies(t *testing.T) {
	s, c := newStore(t)
	ctx := t.Context()
	if err := s.PutClaim(ctx, "x", []byte("{}")); err != nil { // creates the container
		t.Fatal(err)
	}
	old := []byte(`{"v":1,"id":"p/account/1.0","profile":"p"}`)
	if _, err := c.UploadBuffer(ctx, s.Container(), "p/account/1.0-1.json", old, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetClaim(ctx, "p/account/1.0-1.json")
	if err != nil || !bytes.Equal(got, old) {
		t.Fatalf("GetClaim = %q, %v; want %q", got, err, old)
	}
}
