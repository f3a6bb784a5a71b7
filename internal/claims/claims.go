// Package claims keeps message bodies too large for the queue (the claim
// check pattern): the poller stores the body as a blob and sends a small
// reference; the applier reads the blob back. Blobs are never deleted by the
// applier, because a message may be delivered again after it was applied; a
// storage lifecycle rule (infra/main.bicep) removes them once no message can
// still name them.
package claims

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// DefaultContainer holds every claim blob.
const DefaultContainer = "dataexport-claims"

// Store writes and reads claim blobs in one container.
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

// PutClaim stores body under name, replacing any blob of that name.
func (s *Store) PutClaim(ctx context.Context, name string, body []byte) error {
	if !s.created.Load() {
		_, err := s.c.CreateContainer(ctx, s.container, nil)
		if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
			return fmt.Errorf("claims: creating container %s: %w", s.container, err)
		}
		s.created.Store(true)
	}
	if _, err := s.c.UploadBuffer(ctx, s.container, name, body, nil); err != nil {
		return fmt.Errorf("claims: writing %s: %w", name, err)
	}
	return nil
}

// GetClaim reads the body stored under name. A missing blob (or
// container) is an error matching fs.ErrNotExist, and says so in one line.
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
	return b.Bytes(), nil
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
