package failures

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// Unprocessable is one message kept under unprocessablemessages/.
type Unprocessable struct {
	Profile string // "" for the unassigned container
	Blob    string
	Reason  string // possibly truncated
	Time    time.Time
	Size    int64
}

// ListUnprocessable returns the unprocessable messages kept for a profile
// ("" lists the unassigned container), oldest first. Only the listing is
// held, not the bodies (read one with OpenBlob); these are rare by nature.
func (s *Store) ListUnprocessable(ctx context.Context, profile string) ([]Unprocessable, error) {
	cont := s.ContainerName(profile)
	pager := s.c.NewListBlobsFlatPager(cont, &azblob.ListBlobsFlatOptions{
		Prefix:  to.Ptr(UnprocessableFolder),
		Include: azblob.ListBlobsInclude{Metadata: true},
	})
	var out []Unprocessable
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failures: listing %s/%s: %w", cont, UnprocessableFolder, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil {
				continue
			}
			meta := lowerKeys(item.Metadata)
			u := Unprocessable{Profile: profile, Blob: *item.Name, Reason: unescape(meta[metaReason])}
			u.Time, _ = time.Parse(time.RFC3339Nano, meta[metaTime])
			if item.Properties != nil && item.Properties.ContentLength != nil {
				u.Size = *item.Properties.ContentLength
			}
			out = append(out, u)
		}
	}
	return out, nil
}
