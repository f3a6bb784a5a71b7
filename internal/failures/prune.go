package failures

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// DefaultRetention is how long DES kept failure records.
const DefaultRetention = 30 * 24 * time.Hour

// folders are the folders this package writes; Prune touches nothing else.
var folders = []string{DataFolder, MetadataFolder, FailureLogFolder, ResyncLogFolder, UnprocessableFolder}

// Prune deletes, in every failures container (those named with the
// store's prefix), the blobs of the failure folders older than retention,
// and returns how many it deleted. A blob's age is that of the failure it
// records (its notificationtime metadata, set from the store's clock), or
// its last modification when it has none. In Azure the storage lifecycle
// rule does the same by the blobs' tag (infra/main.bicep); where no rule
// exists (Azurite) the app calls this periodically.
func (s *Store) Prune(ctx context.Context, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("failures: retention %v must be positive", retention)
	}
	cutoff := s.now().UTC().Add(-retention)
	deleted := 0
	pager := s.c.NewListContainersPager(&azblob.ListContainersOptions{Prefix: to.Ptr(s.prefix)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return deleted, fmt.Errorf("failures: listing containers: %w", err)
		}
		for _, ci := range page.ContainerItems {
			if ci == nil || ci.Name == nil {
				continue
			}
			n, err := s.pruneContainer(ctx, *ci.Name, cutoff)
			deleted += n
			if err != nil {
				return deleted, err
			}
		}
	}
	return deleted, nil
}

func (s *Store) pruneContainer(ctx context.Context, cont string, cutoff time.Time) (int, error) {
	deleted := 0
	pager := s.c.NewListBlobsFlatPager(cont, &azblob.ListBlobsFlatOptions{Include: azblob.ListBlobsInclude{Metadata: true}})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return deleted, nil
		}
		if err != nil {
			return deleted, fmt.Errorf("failures: listing %s: %w", cont, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil || !inFolders(*item.Name) {
				continue
			}
			at := blobTime(item)
			if at.IsZero() || !at.Before(cutoff) {
				continue
			}
			_, err := s.c.DeleteBlob(ctx, cont, *item.Name, nil)
			if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
				return deleted, fmt.Errorf("failures: deleting %s/%s: %w", cont, *item.Name, err)
			}
			deleted++
		}
	}
	return deleted, nil
}

func inFolders(name string) bool {
	for _, f := range folders {
		if strings.HasPrefix(name, f) {
			return true
		}
	}
	return false
}

// blobTime is when the failure a blob records happened.
func blobTime(item *container.BlobItem) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, lowerKeys(item.Metadata)[metaTime]); err == nil {
		return t
	}
	if item.Properties != nil && item.Properties.LastModified != nil {
		return *item.Properties.LastModified
	}
	return time.Time{}
}
