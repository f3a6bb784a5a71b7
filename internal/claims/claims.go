// Package claims keeps message bodies in Blob storage (the claim check
// pattern): the poller stores a page too large for one queue message as a
// blob and sends a small reference; the applier reads the blob back, and
// deletes it once the page is applied (or kept as failed records), so
// replicated rows stay in the queue's storage account only while a message
// can still name them. A storage lifecycle rule (infra/main.bicep) removes
// what a crash left behind.
//
// Bodies are stored compressed with zstd (Content-Encoding: zstd): account
// pages shrink about nine times, for about 3 ms of CPU per megabyte each
// way. Bodies written before compression (no Content-Encoding) still read.
package claims

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/klauspost/compress/zstd"
)

// DefaultContainer holds every claim blob.
const DefaultContainer = "dataexport-claims"

// encodingZstd is the Content-Encoding of compressed bodies.
const encodingZstd = "zstd"

// maxBodyBytes bounds a decompressed body: far above any page Dataverse
// returns, low enough that a corrupt or hostile blob cannot exhaust memory.
const maxBodyBytes = 1 << 30

// One encoder and decoder for the process: EncodeAll and DecodeAll may be
// called concurrently, and each keeps its buffers between calls.
var (
	encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxBodyBytes))
)

// Store writes, reads and deletes claim blobs in one container.
type Store struct {
	c         *azblob.Client
	container string
	created   atomic.Bool
}

// NewStore returns a Store over c using container (DefaultContainer when
// empty). The container is created on first write.
func NewStore(c *azblob.Client, container string) (*Store, error) {
	if c == nil {
		return nil, errors.New("claims: nil blob client")
	}
	if container == "" {
		container = DefaultContainer
	}
	return &Store{c: c, container: container}, nil
}

// Container is the name of the store's container.
func (s *Store) Container() string { return s.container }

// PutClaim stores body, compressed, under name, replacing any blob of that
// name. Callers name a body by its content, so a replacement writes the
// same bytes again.
func (s *Store) PutClaim(ctx context.Context, name string, body []byte) error {
	if !s.created.Load() {
		_, err := s.c.CreateContainer(ctx, s.container, nil)
		if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return fmt.Errorf("claims: creating container %s: %w", s.container, err)
		}
		s.created.Store(true)
	}
	packed := encoder.EncodeAll(body, make([]byte, 0, len(body)/4))
	contentType := "application/octet-stream" // a binary unit
	if strings.HasSuffix(name, ".json") {
		contentType = "application/json"
	}
	_, err := s.c.UploadBuffer(ctx, s.container, name, packed, &azblob.UploadBufferOptions{
		HTTPHeaders: &blob.HTTPHeaders{
			BlobContentType:     to.Ptr(contentType),
			BlobContentEncoding: to.Ptr(encodingZstd),
		},
	})
	if err != nil {
		return fmt.Errorf("claims: writing %s: %w", name, err)
	}
	return nil
}

// GetClaim reads the body stored under name. A blob that does not exist
// (never written, or deleted after its page was applied) is an error
// matching fs.ErrNotExist, and says so in one line.
func (s *Store) GetClaim(ctx context.Context, name string) ([]byte, error) {
	resp, err := s.c.DownloadStream(ctx, s.container, name, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return nil, fmt.Errorf("claims: no blob %s in container %s: %w", name, s.container, fs.ErrNotExist)
	}
	if err != nil {
		return nil, &storageError{op: "reading " + name, err: err}
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if resp.ContentLength != nil {
		b.Grow(int(*resp.ContentLength))
	}
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("claims: reading %s: %w", name, err)
	}
	if resp.ContentEncoding == nil || !strings.EqualFold(*resp.ContentEncoding, encodingZstd) {
		return b.Bytes(), nil
	}
	body, err := decoder.DecodeAll(b.Bytes(), nil)
	if err != nil {
		return nil, fmt.Errorf("claims: decompressing %s: %w", name, err)
	}
	return body, nil
}

// DeleteClaim removes the blob stored under name; one already gone is fine.
func (s *Store) DeleteClaim(ctx context.Context, name string) error {
	_, err := s.c.DeleteBlob(ctx, s.container, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return fmt.Errorf("claims: deleting %s: %w", name, err)
	}
	return nil
}

// List returns the names of the blobs whose names start with prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	pager := s.c.NewListBlobsFlatPager(s.container, &container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("claims: listing %s: %w", prefix, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name != nil {
				out = append(out, *it.Name)
			}
		}
	}
	return out, nil
}

// storageError says what failed and the service's status and error code in
// one line; the SDK's own text is a whole HTTP dump. The SDK's error stays
// reachable with errors.As.
type storageError struct {
	op  string
	err error
}

func (e *storageError) Error() string {
	var re *azcore.ResponseError
	if errors.As(e.err, &re) {
		return fmt.Sprintf("claims: %s: %s (HTTP %d)", e.op, re.ErrorCode, re.StatusCode)
	}
	return fmt.Sprintf("claims: %s: %v", e.op, e.err)
}

func (e *storageError) Unwrap() error { return e.err }
