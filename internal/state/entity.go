package state

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Phase is where an entity's replication stands. The poller keeps it in the
// entity's state row, and the status route reports it as is.
type Phase string

const (
	// PhaseInitial: the full read (the initial sync) is in progress.
	PhaseInitial Phase = "initial"
	// PhaseDelta: the full read is done; changes are read from the delta link.
	PhaseDelta Phase = "delta"
	// PhaseRebaseline: the delta token expired; the next poll starts a new
	// full read.
	PhaseRebaseline Phase = "rebaseline"
	// PhaseBlocked: the entity's table cannot follow its metadata in place
	// (a column changed type). The poller skips it until an operator
	// re-baselines it (drops the table and reads the entity again).
	PhaseBlocked Phase = "blocked"
	// PhaseNotStarted is never stored: the status of an entity without a
	// state row (its first poll has not run yet).
	PhaseNotStarted Phase = "notStarted"
)

// EntityState is the poller's checkpoint for one entity of one profile.
type EntityState struct {
	Profile, Entity string
	Phase           Phase
	// Link is the resume point: the stored @odata.nextLink during a read, or
	// the @odata.deltaLink between reads.
	Link      string
	HighWater int64 // highest row/token version observed (stamps deletes)
	Pages     int64
	Read      int64
	LastPoll  time.Time
	// LastError is why the last poll of the entity failed; empty once a
	// page is read again. LastErrorAt is when it failed.
	LastError   string
	LastErrorAt time.Time
	// ReadID names the read from the start this state belongs to; message
	// ids carry it, so that pages of a new full read (after a re-baseline or
	// a destination change) never look like duplicates of the last one.
	ReadID string
	// Schema is the fingerprint of the entity's table as the SchemaChange
	// function last evolved it ("<generation>.<hash>", see sync); messages
	// carry the one they were read with. "" until it first did: the poller
	// reads nothing of the entity before.
	Schema string
	// MetadataVersion is the globalmetadataversion that goes with Schema
	// (pages announcing another one send the poller to the definition
	// again); "" when unknown.
	MetadataVersion string
	// SchemaWanted is the hash of a definition the poller read that the
	// table does not follow: the entity is handed to SchemaChange and its
	// polls wait, checkpointing nothing, until Schema is evolved. "" when
	// nothing is asked.
	SchemaWanted string
	// SchemaSince is, with SchemaWanted, the version after which rows may
	// lack the new columns, when the poller knew it (the high water when a
	// page announced the change); 0: unknown, every row.
	SchemaSince int64
	// WantedMetadataVersion is the globalmetadataversion of the page that
	// announced the change.
	WantedMetadataVersion string
	// Backfill is the rows to read again for columns the table gained
	// after they were read.
	Backfill Backfill
	// Sweep is the key scan that ends a full read over a table that had
	// rows: the rows the read did not see go once it is done.
	Sweep Sweep
	// Swept is how many rows the last sweep removed, at SweptAt.
	Swept   int64
	SweptAt time.Time
	// ETag is set by GetEntity and SaveEntity; empty means "not stored yet".
	ETag azcore.ETag
}

// Backfill is a pending read of an entity's rows again, for columns added
// to its table after the rows were read: the rows changed after Since (0:
// every row) are read at their current version and overwrite the stored
// row of the same version (record.Batch.Overwrite).
type Backfill struct {
	Pending bool
	Since   int64
	// Columns are the columns added, for logs and the status.
	Columns []string
	// Link resumes the read in progress ("" before its first page).
	Link string
	// ID names this backfill's messages, so that they are never taken for
	// duplicates of another backfill's.
	ID    string
	Pages int64
}

// maxColumnsText bounds the listed column names kept with a backfill.
const maxColumnsText = 4 * 1024

// Sweep is where the sweep that ends a full read stands (sink.Sweeper).
type Sweep struct {
	// Scan names the key set in the destination; "" when no sweep is due
	// (the table was empty when the read started).
	Scan string
	// Started: the full read reached its delta link at Version, and the
	// source's keys are being staged from Link (the keys read's next
	// link; "" = from the start). Keys counts the keys staged as new,
	// Pages the pages read.
	Started bool
	Version int64
	Link    string
	Keys    int64
	Pages   int64
}

// maxLastError keeps a runaway error text from pushing the row over the
// property limit; the head of an error says what went wrong.
const maxLastError = 8 * 1024

type entityRow struct {
	PartitionKey  string   `json:"PartitionKey"`
	RowKey        string   `json:"RowKey"`
	Phase         Phase    `json:"Phase"`
	Link          string   `json:"Link"`
	HighWater     edmInt64 `json:"HighWater"`
	HighWaterType string   `json:"HighWater@odata.type,omitempty"`
	Pages         edmInt64 `json:"Pages"`
	PagesType     string   `json:"Pages@odata.type,omitempty"`
	Read          edmInt64 `json:"Read"`
	ReadType      string   `json:"Read@odata.type,omitempty"`
	LastPoll      *edmTime `json:"LastPoll,omitempty"`
	LastPollType  string   `json:"LastPoll@odata.type,omitempty"`
	LastError     string   `json:"LastError"`
	// LastErrorAt was added later: older rows lack it.
	LastErrorAt     *edmTime `json:"LastErrorAt,omitempty"`
	LastErrorAtType string   `json:"LastErrorAt@odata.type,omitempty"`
	ReadID          string   `json:"ReadID,omitempty"`
	// The schema and backfill properties were added later: older rows
	// lack them (no schema yet, no backfill).
	Schema                string    `json:"Schema,omitempty"`
	MetadataVersion       string    `json:"MetadataVersion,omitempty"`
	SchemaWanted          string    `json:"SchemaWanted,omitempty"`
	SchemaSince           *edmInt64 `json:"SchemaSince,omitempty"`
	SchemaSinceType       string    `json:"SchemaSince@odata.type,omitempty"`
	WantedMetadataVersion string    `json:"WantedMetadataVersion,omitempty"`
	BackfillPending       bool      `json:"BackfillPending,omitempty"`
	BackfillSince         *edmInt64 `json:"BackfillSince,omitempty"`
	BackfillSinceType     string    `json:"BackfillSince@odata.type,omitempty"`
	BackfillColumns       string    `json:"BackfillColumns,omitempty"`
	BackfillLink          string    `json:"BackfillLink,omitempty"`
	BackfillID            string    `json:"BackfillID,omitempty"`
	BackfillPages         *edmInt64 `json:"BackfillPages,omitempty"`
	BackfillPagesType     string    `json:"BackfillPages@odata.type,omitempty"`
	// The sweep's properties were added later: older rows lack them.
	SweepScan        string    `json:"SweepScan,omitempty"`
	SweepStarted     bool      `json:"SweepStarted,omitempty"`
	SweepVersion     *edmInt64 `json:"SweepVersion,omitempty"`
	SweepVersionType string    `json:"SweepVersion@odata.type,omitempty"`
	SweepLink        string    `json:"SweepLink,omitempty"`
	SweepKeys        *edmInt64 `json:"SweepKeys,omitempty"`
	SweepKeysType    string    `json:"SweepKeys@odata.type,omitempty"`
	SweepPages       *edmInt64 `json:"SweepPages,omitempty"`
	SweepPagesType   string    `json:"SweepPages@odata.type,omitempty"`
	Swept            *edmInt64 `json:"Swept,omitempty"`
	SweptType        string    `json:"Swept@odata.type,omitempty"`
	SweptAt          *edmTime  `json:"SweptAt,omitempty"`
	SweptAtType      string    `json:"SweptAt@odata.type,omitempty"`
	// ODataETag is only read: list responses carry the ETag in the body.
	ODataETag string `json:"odata.etag,omitempty"`
}

func (st *EntityState) row() ([]byte, error) {
	if err := checkKey("profile", st.Profile); err != nil {
		return nil, err
	}
	if err := checkKey("entity", st.Entity); err != nil {
		return nil, err
	}
	if strings.HasSuffix(st.Entity, countersSuffix) {
		return nil, fmt.Errorf("%w: entity %q ends in the reserved %q", ErrInvalidKey, st.Entity, countersSuffix)
	}
	if err := checkProperty(fmt.Sprintf("link of %s/%s", st.Profile, st.Entity), st.Link); err != nil {
		return nil, err
	}
	if err := checkProperty(fmt.Sprintf("backfill link of %s/%s", st.Profile, st.Entity), st.Backfill.Link); err != nil {
		return nil, err
	}
	if err := checkProperty(fmt.Sprintf("sweep link of %s/%s", st.Profile, st.Entity), st.Sweep.Link); err != nil {
		return nil, err
	}
	lastErr := st.LastError
	if len(lastErr) > maxLastError {
		lastErr = strings.ToValidUTF8(lastErr[:maxLastError], "")
	}
	r := entityRow{
		PartitionKey: st.Profile, RowKey: st.Entity,
		Phase: st.Phase, Link: st.Link, LastError: lastErr, ReadID: st.ReadID,
		HighWater: edmInt64(st.HighWater), HighWaterType: edmInt64Type,
		Pages: edmInt64(st.Pages), PagesType: edmInt64Type,
		Read: edmInt64(st.Read), ReadType: edmInt64Type,
	}
	r.LastPoll, r.LastPollType = timeProp(st.LastPoll)
	if lastErr != "" {
		r.LastErrorAt, r.LastErrorAtType = timeProp(st.LastErrorAt)
	}
	r.Schema, r.MetadataVersion = st.Schema, st.MetadataVersion
	if st.SchemaWanted != "" {
		r.SchemaWanted, r.WantedMetadataVersion = st.SchemaWanted, st.WantedMetadataVersion
		r.SchemaSince, r.SchemaSinceType = int64Prop(st.SchemaSince)
	}
	if b := st.Backfill; b.Pending {
		cols := strings.Join(b.Columns, ",")
		if len(cols) > maxColumnsText {
			cols = cols[:strings.LastIndexByte(cols[:maxColumnsText], ',')] + ",…"
		}
		r.BackfillPending, r.BackfillColumns, r.BackfillLink, r.BackfillID = true, cols, b.Link, b.ID
		r.BackfillSince, r.BackfillSinceType = int64Prop(b.Since)
		r.BackfillPages, r.BackfillPagesType = int64Prop(b.Pages)
	}
	if sw := st.Sweep; sw.Scan != "" {
		r.SweepScan, r.SweepStarted, r.SweepLink = sw.Scan, sw.Started, sw.Link
		r.SweepVersion, r.SweepVersionType = int64Prop(sw.Version)
		r.SweepKeys, r.SweepKeysType = int64Prop(sw.Keys)
		r.SweepPages, r.SweepPagesType = int64Prop(sw.Pages)
	}
	if !st.SweptAt.IsZero() {
		r.Swept, r.SweptType = int64Prop(st.Swept)
		r.SweptAt, r.SweptAtType = timeProp(st.SweptAt)
	}
	return json.Marshal(r)
}

func decodeEntity(raw []byte, etag azcore.ETag) (EntityState, error) {
	var r entityRow
	if err := json.Unmarshal(raw, &r); err != nil {
		return EntityState{}, fmt.Errorf("state: decoding entity state: %w", err)
	}
	return r.state(etag), nil
}

func (r *entityRow) state(etag azcore.ETag) EntityState {
	return EntityState{
		Profile: r.PartitionKey, Entity: r.RowKey,
		Phase: r.Phase, Link: r.Link,
		HighWater: int64(r.HighWater), Pages: int64(r.Pages), Read: int64(r.Read),
		LastPoll: timeValue(r.LastPoll), LastError: r.LastError, LastErrorAt: timeValue(r.LastErrorAt), ReadID: r.ReadID,
		Schema: r.Schema, MetadataVersion: r.MetadataVersion,
		SchemaWanted: r.SchemaWanted, SchemaSince: int64Value(r.SchemaSince), WantedMetadataVersion: r.WantedMetadataVersion,
		Backfill: Backfill{
			Pending: r.BackfillPending, Since: int64Value(r.BackfillSince), Link: r.BackfillLink, ID: r.BackfillID,
			Pages: int64Value(r.BackfillPages), Columns: splitList(r.BackfillColumns),
		},
		Sweep: Sweep{
			Scan: r.SweepScan, Started: r.SweepStarted, Link: r.SweepLink,
			Version: int64Value(r.SweepVersion), Keys: int64Value(r.SweepKeys), Pages: int64Value(r.SweepPages),
		},
		Swept: int64Value(r.Swept), SweptAt: timeValue(r.SweptAt),
		ETag: etag,
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// GetEntity returns the state of one entity, or ErrNotFound.
func (s *Store) GetEntity(ctx context.Context, profile, entity string) (EntityState, error) {
	if err := checkKey("profile", profile); err != nil {
		return EntityState{}, err
	}
	if err := checkKey("entity", entity); err != nil {
		return EntityState{}, err
	}
	resp, err := s.entities.GetEntity(ctx, profile, entity, nil)
	if HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
		return EntityState{}, fmt.Errorf("entity state %s/%s: %w", profile, entity, ErrNotFound)
	}
	if err != nil {
		return EntityState{}, fmt.Errorf("state: reading entity state %s/%s: %w", profile, entity, err)
	}
	return decodeEntity(resp.Value, resp.ETag)
}

// SaveEntity writes st if nobody else wrote it since it was read: it adds
// the row when st.ETag is empty and otherwise replaces it only if the ETag
// still matches. It returns ErrConflict when another writer won, and updates
// st.ETag on success.
func (s *Store) SaveEntity(ctx context.Context, st *EntityState) error {
	row, err := st.row()
	if err != nil {
		return err
	}
	if st.ETag == "" {
		resp, err := s.entities.AddEntity(ctx, row, nil)
		if HasCode(err, aztables.EntityAlreadyExists) {
			return fmt.Errorf("adding entity state %s/%s: %w", st.Profile, st.Entity, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("state: adding entity state %s/%s: %w", st.Profile, st.Entity, err)
		}
		st.ETag = resp.ETag
		return nil
	}
	etag := st.ETag
	resp, err := s.entities.UpdateEntity(ctx, row, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
	// A row deleted under us (profile removed, entity reset) is a lost race too.
	if HasCode(err, aztables.UpdateConditionNotSatisfied, aztables.EntityNotFound, aztables.ResourceNotFound) {
		return fmt.Errorf("updating entity state %s/%s: %w", st.Profile, st.Entity, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("state: updating entity state %s/%s: %w", st.Profile, st.Entity, err)
	}
	st.ETag = resp.ETag
	return nil
}

// ListEntities returns the state of every entity of a profile, by entity name.
func (s *Store) ListEntities(ctx context.Context, profile string) ([]EntityState, error) {
	if err := checkKey("profile", profile); err != nil {
		return nil, err
	}
	pager := s.entities.NewListEntitiesPager(&aztables.ListEntitiesOptions{
		Filter: to.Ptr("PartitionKey eq '" + odataQuote(profile) + "'"),
	})
	var out []EntityState
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("state: listing entity state of %s: %w", profile, err)
		}
		for _, raw := range page.Entities {
			var r entityRow
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("state: decoding entity state: %w", err)
			}
			if strings.HasSuffix(r.RowKey, countersSuffix) {
				continue
			}
			out = append(out, r.state(azcore.ETag(r.ODataETag)))
		}
	}
	return out, nil
}

// DeleteEntity removes an entity's state and counters (both absent is fine).
func (s *Store) DeleteEntity(ctx context.Context, profile, entity string) error {
	if err := checkKey("profile", profile); err != nil {
		return err
	}
	if err := checkKey("entity", entity); err != nil {
		return err
	}
	for _, rk := range []string{entity, entity + countersSuffix} {
		_, err := s.entities.DeleteEntity(ctx, profile, rk, nil)
		if err != nil && !HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
			return fmt.Errorf("state: deleting entity state %s/%s: %w", profile, rk, err)
		}
	}
	return nil
}

// odataQuote escapes a string literal for an OData filter.
func odataQuote(s string) string { return strings.ReplaceAll(s, "'", "''") }

// DeletePartition removes every row of a profile in the entity-state table:
// the state and counters of every entity, also of entities the profile no
// longer lists. It returns how many rows it deleted.
func (s *Store) DeletePartition(ctx context.Context, profile string) (int, error) {
	if err := checkKey("profile", profile); err != nil {
		return 0, err
	}
	pager := s.entities.NewListEntitiesPager(&aztables.ListEntitiesOptions{
		Filter: to.Ptr("PartitionKey eq '" + odataQuote(profile) + "'"),
		Select: to.Ptr("RowKey"),
	})
	var keys []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("state: listing the rows of %s: %w", profile, err)
		}
		for _, raw := range page.Entities {
			var r struct {
				RowKey string `json:"RowKey"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return 0, fmt.Errorf("state: decoding a row of %s: %w", profile, err)
			}
			keys = append(keys, r.RowKey)
		}
	}
	for i, rk := range keys {
		_, err := s.entities.DeleteEntity(ctx, profile, rk, nil)
		if err != nil && !HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
			return i, fmt.Errorf("state: deleting %s/%s: %w", profile, rk, err)
		}
	}
	return len(keys), nil
}
