package failures

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// Counts are the blobs a profile's container holds, by folder.
type Counts struct {
	// Records is the failed records under data/, per entity.
	Records map[string]int
	// Metadata counts the failed metadata changes under metadata/.
	Metadata int
	// Unprocessable counts the messages under unprocessablemessages/.
	Unprocessable int
}

// Count counts a profile's failed records (per entity), failed metadata
// changes and unprocessable messages, from one listing (no blob is read).
func (s *Store) Count(ctx context.Context, profile string) (Counts, error) {
	c := Counts{Records: map[string]int{}}
	cont := s.ContainerName(profile)
	pager := s.c.NewListBlobsFlatPager(cont, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return c, nil
		}
		if err != nil {
			return c, fmt.Errorf("failures: listing %s: %w", cont, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil {
				continue
			}
			name := *item.Name
			switch {
			case strings.HasPrefix(name, DataFolder):
				if entity, _, ok := strings.Cut(strings.TrimPrefix(name, DataFolder), "/"); ok {
					c.Records[entity]++
				}
			case strings.HasPrefix(name, MetadataFolder):
				c.Metadata++
			case strings.HasPrefix(name, UnprocessableFolder):
				c.Unprocessable++
			}
		}
	}
	return c, nil
}

// LogLine is one line of a failure log.
type LogLine struct {
	Blob string `json:"blob"` // the log blob, within the profile's container
	Line string `json:"line"` // in the DES format (FormatLogLine)
}

// LatestLines returns the lines of the n newest log blobs of a profile
// under folder (FailureLogFolder or ResyncLogFolder), newest first. Log
// names sort by time (folder/YYYY/MM/DD/HH/<time>_…), so the listing alone
// finds them; only those n blobs are read.
func (s *Store) LatestLines(ctx context.Context, profile, folder string, n int) ([]LogLine, error) {
	if folder != FailureLogFolder && folder != ResyncLogFolder {
		return nil, fmt.Errorf("failures: %q is not a log folder", folder)
	}
	if n <= 0 {
		return nil, nil
	}
	cont := s.ContainerName(profile)
	var newest []string // ascending, at most n
	pager := s.c.NewListBlobsFlatPager(cont, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(folder)})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failures: listing %s/%s: %w", cont, folder, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item == nil || item.Name == nil {
				continue
			}
			i, _ := slices.BinarySearch(newest, *item.Name)
			newest = slices.Insert(newest, i, *item.Name)
			if len(newest) > n {
				newest = newest[1:]
			}
		}
	}
	out := make([]LogLine, 0, len(newest))
	for i := len(newest) - 1; i >= 0; i-- {
		r, err := s.OpenBlob(ctx, profile, newest[i])
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			continue // pruned meanwhile
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(r, 64<<10))
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("failures: reading %s/%s: %w", cont, newest[i], err)
		}
		out = append(out, LogLine{Blob: newest[i], Line: strings.TrimRight(string(b), "\n")})
	}
	return out, nil
}
