package failures

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// Failure is one failed record as stored under data/.
type Failure struct {
	Profile          string
	Entity           string
	RecordID         string // "" when the record had none
	ChangeType       string
	NotificationTime time.Time
	Reason           string // possibly truncated; the full text is in LogBlob
	Blob             string // the payload's blob name, within the profile's container
	LogBlob          string
	Size             int64
}

// List streams the failed records of a profile, of one entity or of all
// (entity ""), in time order within an entity, one listing page at a time.
// A profile without failures yields nothing.
func (s *Store) List(ctx context.Context, profile, entity string) iter.Seq2[Failure, error] {
	return func(yield func(Failure, error) bool) {
		prefix := DataFolder
		if entity != "" {
			if err := checkSegment("entity", entity); err != nil {
				yield(Failure{}, err)
				return
			}
			prefix += entity + "/"
		}
		cont := s.ContainerName(profile)
		pager := s.c.NewListBlobsFlatPager(cont, &azblob.ListBlobsFlatOptions{
			Prefix:  to.Ptr(prefix),
			Include: azblob.ListBlobsInclude{Metadata: true},
		})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if bloberror.HasCode(err, bloberror.ContainerNotFound) {
				return
			}
			if err != nil {
				yield(Failure{}, fmt.Errorf("failures: listing %s/%s: %w", cont, prefix, err))
				return
			}
			for _, item := range page.Segment.BlobItems {
				if item == nil || item.Name == nil {
					continue
				}
				f := Failure{Profile: profile, Blob: *item.Name}
				if item.Properties != nil && item.Properties.ContentLength != nil {
					f.Size = *item.Properties.ContentLength
				}
				meta := lowerKeys(item.Metadata)
				f.Entity = meta[metaEntity]
				f.RecordID = meta[metaRecordID]
				f.ChangeType = unescape(meta[metaChangeType])
				f.Reason = unescape(meta[metaReason])
				f.LogBlob = meta[metaLog]
				f.NotificationTime, _ = time.Parse(time.RFC3339Nano, meta[metaTime])
				if !yield(f, nil) {
					return
				}
			}
		}
	}
}

// Open returns the payload of a failure; the caller closes it.
func (s *Store) Open(ctx context.Context, f Failure) (io.ReadCloser, error) {
	return s.OpenBlob(ctx, f.Profile, f.Blob)
}

// OpenBlob returns one blob of a profile's container (a payload, a log or an
// unprocessable message); the caller closes it.
func (s *Store) OpenBlob(ctx context.Context, profile, blob string) (io.ReadCloser, error) {
	cont := s.ContainerName(profile)
	resp, err := s.c.DownloadStream(ctx, cont, blob, nil)
	if err != nil {
		return nil, fmt.Errorf("failures: reading %s/%s: %w", cont, blob, err)
	}
	return resp.Body, nil
}

// Resolve removes a failure's payload once a resync applied it. Its log
// lines stay until the lifecycle rule removes them. An already removed
// payload is fine, so two resync runs do not trip over each other.
func (s *Store) Resolve(ctx context.Context, f Failure) error {
	cont := s.ContainerName(f.Profile)
	_, err := s.c.DeleteBlob(ctx, cont, f.Blob, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ContainerNotFound) {
		return fmt.Errorf("failures: deleting %s/%s: %w", cont, f.Blob, err)
	}
	return nil
}

func lowerKeys(m map[string]*string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[strings.ToLower(k)] = *v
		}
	}
	return out
}

// unescape undoes url.QueryEscape, dropping an escape cut in half by the
// length cap.
func unescape(s string) string {
	if i := strings.LastIndexByte(s, '%'); i >= 0 && i > len(s)-3 {
		s = s[:i]
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
