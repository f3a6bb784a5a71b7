package recovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

// FailuresOptions tune a failures summary. Zero values are the defaults.
type FailuresOptions struct {
	// Lines is how many of the latest failure log lines to include, and of
	// the latest forcerefreshfailurelog/ lines (default 20).
	Lines int
	// URLLifetime is how long the read-only URL stays valid (default and
	// most: 24 hours, as DES's "Copy Blob URL").
	URLLifetime time.Duration
	// NoURL leaves the URL out.
	NoURL bool
}

// MaxURLLifetime is the longest the read-only URL of a summary lives.
const MaxURLLifetime = 24 * time.Hour

// FailuresReport summarises a profile's failed records (DES's "Failed
// Records" dialog).
type FailuresReport struct {
	Profile string `json:"profile"`
	// Container is the profile's failures container: data/, metadata/,
	// failurelog/YYYY/MM/DD/HH/, forcerefreshfailurelog/YYYY/MM/DD/HH/,
	// unprocessablemessages/.
	Container string `json:"container"`
	// FailedRecords counts the failed records kept under data/ (what a
	// resync takes); FailedNotifications is the entities' counter.
	FailedRecords       int              `json:"failedRecords"`
	FailedNotifications int64            `json:"failedNotifications"`
	Entities            []EntityFailures `json:"entities"`
	// MetadataFailures counts metadata changes that could not be applied;
	// UnprocessableMessages messages that could not be understood.
	MetadataFailures      int `json:"metadataFailures"`
	UnprocessableMessages int `json:"unprocessableMessages"`
	// LatestFailures are the newest failure log lines, newest first;
	// LatestResyncFailures those of the resyncs (forcerefreshfailurelog/).
	LatestFailures       []failures.LogLine `json:"latestFailures"`
	LatestResyncFailures []failures.LogLine `json:"latestResyncFailures"`
	// URL lists and reads the container, and nothing else, until
	// URLExpires (Azure Storage Explorer: Connect to Azure Storage, paste
	// it). A bearer secret: hand it only to who may read the failures.
	URL        string     `json:"url,omitempty"`
	URLExpires *time.Time `json:"urlExpires,omitempty"`
}

// EntityFailures is one entity's failed records.
type EntityFailures struct {
	Entity              string `json:"entity"`
	FailedRecords       int    `json:"failedRecords"`
	FailedNotifications int64  `json:"failedNotifications"`
}

// Failures summarises the failed records of p: counts per entity (blobs
// under data/ and the Failed Notifications counter), metadata failures,
// unprocessable messages, the latest log lines, and a read-only URL of the
// profile's container valid for at most 24 hours.
func (s *Service) Failures(ctx context.Context, p profile.Profile, o FailuresOptions) (FailuresReport, error) {
	if o.Lines <= 0 {
		o.Lines = 20
	}
	if o.URLLifetime <= 0 || o.URLLifetime > MaxURLLifetime {
		o.URLLifetime = MaxURLLifetime
	}
	rep := FailuresReport{Profile: p.Name, Container: s.d.Failures.ContainerName(p.Name), Entities: []EntityFailures{}}
	counts, err := s.d.Failures.Count(ctx, p.Name)
	if err != nil {
		return rep, err
	}
	rep.MetadataFailures, rep.UnprocessableMessages = counts.Metadata, counts.Unprocessable
	// The profile's entities, and any other that still has failed records.
	ents := slices.Clone(p.Entities)
	for e := range counts.Records {
		if !slices.Contains(ents, e) {
			ents = append(ents, e)
		}
	}
	slices.Sort(ents)
	for _, e := range ents {
		c, err := s.d.Counters.GetCounters(ctx, p.Name, e)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return rep, fmt.Errorf("reading the counters of %s/%s: %w", p.Name, e, err)
		}
		ef := EntityFailures{Entity: e, FailedRecords: counts.Records[e], FailedNotifications: c.Failed}
		rep.FailedRecords += ef.FailedRecords
		rep.FailedNotifications += ef.FailedNotifications
		rep.Entities = append(rep.Entities, ef)
	}
	if rep.LatestFailures, err = s.d.Failures.LatestLines(ctx, p.Name, failures.FailureLogFolder, o.Lines); err != nil {
		return rep, err
	}
	if rep.LatestResyncFailures, err = s.d.Failures.LatestLines(ctx, p.Name, failures.ResyncLogFolder, o.Lines); err != nil {
		return rep, err
	}
	if rep.LatestFailures == nil {
		rep.LatestFailures = []failures.LogLine{}
	}
	if rep.LatestResyncFailures == nil {
		rep.LatestResyncFailures = []failures.LogLine{}
	}
	if !o.NoURL {
		now := s.o.Now().UTC()
		if rep.URL, err = s.d.Failures.ReadOnlyURL(ctx, p.Name, o.URLLifetime); err != nil {
			return rep, err
		}
		exp := now.Add(o.URLLifetime).Truncate(time.Second)
		rep.URLExpires = &exp
	}
	return rep, nil
}
