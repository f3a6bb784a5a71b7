package failures

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

// Change types as DES wrote them in the failure log.
const (
	ChangeNew           = "New"
	ChangeUpdate        = "Update"
	ChangeDelete        = "Delete"
	ChangeInitialExport = "Trigger Initial Export"
)

// notificationTimeLayout is .NET's en-US general date/time ("G"), the form
// DES wrote: "12/28/2016 12:32:39 AM". Always UTC here.
const notificationTimeLayout = "1/2/2006 3:04:05 PM"

// Blob metadata keys on data/ and metadata/ blobs; the reader rebuilds a
// Failure from them without downloading the payload.
const (
	metaEntity     = "entity"
	metaRecordID   = "recordid"
	metaChangeType = "changetype"
	metaTime       = "notificationtime"
	metaReason     = "reason"
	metaLog        = "failurelog"
)

// RetentionTag is the blob index tag set on every blob this package writes;
// the storage lifecycle rule (infra/main.bicep) deletes blobs carrying it
// after 30 days, as DES did. A tag, not a name prefix, because a lifecycle
// prefix must start with a whole container name and the containers are
// created per profile at run time.
var RetentionTag = map[string]string{"dataexport": "failure"}

// maxMetaReason keeps the query-escaped reason well inside the 8 KiB limit
// on all metadata of a blob; the full text is in the failure log.
const maxMetaReason = 2048

// FormatLogLine renders one failure the way DES's failure logs did:
//
//	Entity: contact, RecordId: <guid|N/A>, NotificationTime: 12/28/2016 12:32:39 AM, ChangeType: Update, FailureReason: <text>
func FormatLogLine(entity, recordID string, t time.Time, changeType, reason string) string {
	if recordID == "" {
		recordID = "N/A"
	}
	return fmt.Sprintf("Entity: %s, RecordId: %s, NotificationTime: %s, ChangeType: %s, FailureReason: %s",
		entity, recordID, t.UTC().Format(notificationTimeLayout), changeType, reason)
}

// WriteFailure records a record that could not be applied: its payload goes
// to data/<entity>/ (where a resync reads it back) and a log line to
// failurelog/YYYY/MM/DD/HH/. recordID may be empty (logged as N/A).
func (s *Store) WriteFailure(ctx context.Context, profile, entity, recordID, changeType, reason string, payload []byte) error {
	return s.writeFailure(ctx, DataFolder, FailureLogFolder, profile, entity, recordID, changeType, reason, payload)
}

// WriteMetadataFailure records a metadata (schema) notification that could
// not be applied, under metadata/<entity>/, logged like a record failure.
func (s *Store) WriteMetadataFailure(ctx context.Context, profile, entity, changeType, reason string, payload []byte) error {
	return s.writeFailure(ctx, MetadataFolder, FailureLogFolder, profile, entity, "", changeType, reason, payload)
}

func (s *Store) writeFailure(ctx context.Context, folder, logFolder, profile, entity, recordID, changeType, reason string, payload []byte) error {
	if err := checkSegment("entity", entity); err != nil {
		return err
	}
	if recordID != "" {
		if err := checkSegment("record id", recordID); err != nil {
			return err
		}
	}
	cont := s.ContainerName(profile)
	if err := s.ensureContainer(ctx, cont); err != nil {
		return err
	}
	t := s.now().UTC()
	stem := blobStem(t, entity, recordID)
	logName := logFolder + t.Format("2006/01/02/15/") + stem + ".log"
	// The log line first: if the payload upload then fails, the failure is
	// still visible to a human, which beats a payload nobody knows about.
	if err := s.writeLog(ctx, cont, logName, t, FormatLogLine(entity, recordID, t, changeType, reason)); err != nil {
		return err
	}
	meta := map[string]*string{
		metaEntity:     to.Ptr(entity),
		metaChangeType: to.Ptr(url.QueryEscape(changeType)),
		metaTime:       to.Ptr(t.Format(time.RFC3339Nano)),
		metaReason:     to.Ptr(truncate(url.QueryEscape(reason), maxMetaReason)),
		metaLog:        to.Ptr(logName),
	}
	if recordID != "" {
		meta[metaRecordID] = to.Ptr(recordID)
	}
	name := folder + entity + "/" + stem + ".json"
	if _, err := s.c.UploadBuffer(ctx, cont, name, payload, &azblob.UploadBufferOptions{
		Metadata:    meta,
		Tags:        RetentionTag,
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("application/json")},
	}); err != nil {
		return fmt.Errorf("failures: writing %s/%s: %w", cont, name, err)
	}
	return nil
}

// WriteUnprocessable keeps a message that could not be understood (bad JSON,
// unknown version, a profile or entity that no longer exists). profile may be
// empty when the message did not say, or could not be read far enough; such
// messages go to the "<prefix>unassigned" container.
func (s *Store) WriteUnprocessable(ctx context.Context, profile string, body []byte, reason string) error {
	cont := s.ContainerName(profile)
	if err := s.ensureContainer(ctx, cont); err != nil {
		return err
	}
	t := s.now().UTC()
	name := UnprocessableFolder + t.Format("2006/01/02/15/") + blobStem(t, "", "") + ".json"
	if _, err := s.c.UploadBuffer(ctx, cont, name, body, &azblob.UploadBufferOptions{
		Tags: RetentionTag,
		Metadata: map[string]*string{
			metaTime:   to.Ptr(t.Format(time.RFC3339Nano)),
			metaReason: to.Ptr(truncate(url.QueryEscape(reason), maxMetaReason)),
		},
	}); err != nil {
		return fmt.Errorf("failures: writing %s/%s: %w", cont, name, err)
	}
	return nil
}

// LogResyncFailure logs that re-applying f during a "resync failed records"
// run failed again, under forcerefreshfailurelog/. f's payload stays in data/.
func (s *Store) LogResyncFailure(ctx context.Context, f Failure, reason string) error {
	cont := s.ContainerName(f.Profile)
	if err := s.ensureContainer(ctx, cont); err != nil {
		return err
	}
	t := s.now().UTC()
	name := ResyncLogFolder + t.Format("2006/01/02/15/") + blobStem(t, f.Entity, f.RecordID) + ".log"
	return s.writeLog(ctx, cont, name, t, FormatLogLine(f.Entity, f.RecordID, t, f.ChangeType, reason))
}

// writeLog writes one log line; its time is in the metadata, as on every
// blob of the store (Prune ages blobs by it).
func (s *Store) writeLog(ctx context.Context, cont, name string, t time.Time, line string) error {
	if _, err := s.c.UploadBuffer(ctx, cont, name, []byte(line+"\n"), &azblob.UploadBufferOptions{
		Tags:        RetentionTag,
		Metadata:    map[string]*string{metaTime: to.Ptr(t.Format(time.RFC3339Nano))},
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("text/plain; charset=utf-8")},
	}); err != nil {
		return fmt.Errorf("failures: writing %s/%s: %w", cont, name, err)
	}
	return nil
}

// blobStem names one failure: sortable time, what failed, and a random tag
// so two failures in the same instant never overwrite each other.
func blobStem(t time.Time, entity, recordID string) string {
	var tag [4]byte
	_, _ = rand.Read(tag[:])
	parts := []string{t.Format("20060102T150405.000000000Z")}
	if entity != "" {
		parts = append(parts, entity)
	}
	if recordID != "" {
		parts = append(parts, recordID)
	}
	return strings.Join(append(parts, hex.EncodeToString(tag[:])), "_")
}

// checkSegment keeps names that become blob path segments to a safe set.
func checkSegment(what, v string) error {
	if v == "" || len(v) > 128 {
		return fmt.Errorf("failures: %s must be 1-128 characters", what)
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') || v == "." || v == ".." {
			return fmt.Errorf("failures: %s %q: only letters, digits, '_', '-' and '.' are allowed", what, v)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
