package manage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

// ProfileStatus is where a profile's replication stands.
type ProfileStatus struct {
	Name  string        `json:"name"`
	State profile.State `json:"state"`
	// FailedNotifications is the DES "Failed Notifications" total: records
	// kept as failed records, over every entity.
	FailedNotifications int64 `json:"failedNotifications"`
	// MaxLagSeconds is the largest lag of its entities (absent: none
	// measured yet); InitialSyncComplete is true once every entity's
	// initial sync is complete.
	MaxLagSeconds       *float64       `json:"maxLagSeconds,omitempty"`
	InitialSyncComplete bool           `json:"initialSyncComplete"`
	Entities            []EntityStatus `json:"entities"`
}

// EntityStatus is one entity's replication.
type EntityStatus struct {
	Entity string `json:"entity"`
	// Phase: initial (the initial sync is in progress), delta (running:
	// changes are followed), rebaseline (a full read starts at the next
	// poll), blocked (not progressing; LastError says why), notStarted.
	Phase state.Phase `json:"phase"`
	// Description says the phase in words.
	Description string `json:"description"`
	// RowsRead counts the records (and deletes) read from Dataverse.
	RowsRead int64 `json:"rowsRead"`
	// RowsApplied counts the records and deletes processed at the
	// destination: written (Succeeded) or already there in a newer version
	// (Skipped).
	RowsApplied int64 `json:"rowsApplied"`
	// Pending counts the rows read but not yet applied or failed: on the
	// queue. An initial sync is finished when the phase is delta and
	// nothing is pending.
	Pending   int64 `json:"pending"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Deleted   int64 `json:"deleted"`
	Skipped   int64 `json:"skipped"`
	// LastSuccessfulSync is when the entity was last read from Dataverse
	// without error.
	LastSuccessfulSync *time.Time `json:"lastSuccessfulSync,omitempty"`
	// LastApplied is when a batch of it was last applied.
	LastApplied *time.Time `json:"lastApplied,omitempty"`
	// LagSeconds is the time from the last change seen at the source
	// (its modifiedon) to its arrival in the destination, as last measured
	// (LagMeasuredAt).
	LagSeconds    *float64   `json:"lagSeconds,omitempty"`
	LagMeasuredAt *time.Time `json:"lagMeasuredAt,omitempty"`
	LastError     *LastError `json:"lastError,omitempty"`
	// WaitingForSchemaChange: the entity's table does not follow its
	// metadata yet (a new entity, or one whose metadata changed); nothing
	// of it is read until the SchemaChange function has evolved the table.
	WaitingForSchemaChange bool `json:"waitingForSchemaChange,omitempty"`
	// Backfill is set while rows are read again for columns added to the
	// table after they were read.
	Backfill *BackfillStatus `json:"backfill,omitempty"`
	// Progress is how far the initial sync has come.
	Progress *Progress `json:"progress"`
	// Sweep is set while a full read over a table that had rows converges:
	// the source's keys are compared to remove the rows it no longer has.
	Sweep *SweepStatus `json:"sweep,omitempty"`
	// LastSweep is what the last such sweep removed, and when.
	LastSweep *LastSweep `json:"lastSweep,omitempty"`
}

// BackfillStatus is a read of rows again for added columns.
type BackfillStatus struct {
	Columns []string `json:"columns"`
	// ChangedAfter: the rows whose version is above it are read again (0:
	// every row).
	ChangedAfter int64 `json:"changedAfter"`
	PagesRead    int64 `json:"pagesRead"`
}

// SweepStatus is where the sweep that ends a full read stands.
type SweepStatus struct {
	// Started: the read is done and the source's keys are being read
	// (KeysStaged so far); before, the sweep waits for the read's end.
	Started    bool  `json:"started"`
	KeysStaged int64 `json:"keysStaged"`
}

// LastSweep is what the last sweep removed.
type LastSweep struct {
	RowsRemoved int64     `json:"rowsRemoved"`
	At          time.Time `json:"at"`
}

// LastError is the latest error of an entity that has not been followed
// by a success of the same stage.
type LastError struct {
	Stage   string     `json:"stage"` // read (polling Dataverse) or apply (writing the destination)
	Message string     `json:"message"`
	At      *time.Time `json:"at,omitempty"`
}

// Status reports a profile's state and each entity's phase, counters,
// last sync, lag and last error.
func (s *Service) Status(ctx context.Context, name string) (ProfileStatus, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return ProfileStatus{}, err
	}
	sts, err := s.d.States.ListEntities(ctx, name)
	if err != nil {
		return ProfileStatus{}, fmt.Errorf("reading the entity states of %s: %w", name, err)
	}
	byEntity := make(map[string]state.EntityState, len(sts))
	for _, st := range sts {
		byEntity[st.Entity] = st
	}
	out := ProfileStatus{Name: name, State: p.EffectiveState(), Entities: []EntityStatus{}}
	var syncing []string
	for _, ent := range p.Entities {
		c, err := s.d.States.GetCounters(ctx, name, ent)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return ProfileStatus{}, fmt.Errorf("reading the counters of %s/%s: %w", name, ent, err)
		}
		st, ok := byEntity[ent]
		es := entityStatus(ent, st, ok, c, p.IsActive())
		out.FailedNotifications += c.Failed
		out.Entities = append(out.Entities, es)
		if es.Phase != state.PhaseDelta || es.Pending > 0 {
			syncing = append(syncing, ent)
		}
	}
	counts := s.sourceCounts(ctx, syncing)
	for i := range out.Entities {
		total, ok := counts[out.Entities[i].Entity]
		if !ok {
			total = -1
		}
		s.progress(ctx, name, &out.Entities[i], total)
	}
	out.InitialSyncComplete = len(out.Entities) > 0
	for _, es := range out.Entities {
		out.InitialSyncComplete = out.InitialSyncComplete && es.Progress.Complete
		if es.LagSeconds != nil && (out.MaxLagSeconds == nil || *es.LagSeconds > *out.MaxLagSeconds) {
			lag := *es.LagSeconds
			out.MaxLagSeconds = &lag
		}
	}
	return out, nil
}

func entityStatus(ent string, st state.EntityState, stored bool, c state.Counters, active bool) EntityStatus {
	es := EntityStatus{
		Entity: ent, RowsRead: st.Read,
		Succeeded: c.Succeeded, Failed: c.Failed, Deleted: c.Deleted, Skipped: c.Skipped,
		RowsApplied:        c.Succeeded + c.Skipped,
		Pending:            max(st.Read-c.Succeeded-c.Skipped-c.Failed, 0),
		LastSuccessfulSync: timePtr(st.LastPoll), LastApplied: timePtr(c.LastApplied),
	}
	if !c.LagAt.IsZero() {
		secs := c.Lag.Seconds()
		es.LagSeconds, es.LagMeasuredAt = &secs, timePtr(c.LagAt)
	}
	// The latest error of each stage, unless a success came after it.
	if st.LastError != "" {
		es.LastError = &LastError{Stage: "read", Message: st.LastError, At: timePtr(st.LastErrorAt)}
	}
	if c.LastError != "" && !c.LastErrorAt.Before(c.LastApplied) && (es.LastError == nil || c.LastErrorAt.After(st.LastErrorAt)) {
		es.LastError = &LastError{Stage: "apply", Message: c.LastError, At: timePtr(c.LastErrorAt)}
	}
	switch {
	case !stored:
		es.Phase, es.Description = state.PhaseNotStarted, "waiting for the first poll"
		if !active {
			es.Description = "not started: the profile is inactive"
		}
	case st.Phase == state.PhaseBlocked:
		es.Phase, es.Description = state.PhaseBlocked, "blocked until it is re-baselined: "+st.LastError
	case st.SchemaWanted != "":
		es.Phase, es.WaitingForSchemaChange = st.Phase, true
		es.Description = "waiting for the SchemaChange function to bring the table in line with the entity's metadata"
		if st.LastError != "" {
			es.Description += "; last attempt: " + st.LastError
		}
	case st.LastError != "" && st.Phase != state.PhaseRebaseline:
		// Not progressing: every poll of it fails (change tracking turned
		// off, the entity removed from the org, ...).
		es.Phase, es.Description = state.PhaseBlocked, "blocked: the last poll failed: "+st.LastError
	case st.Phase == state.PhaseInitial && st.Sweep.Scan != "":
		es.Phase, es.Description = st.Phase, "full read in progress over the existing table; the rows the source no longer has are removed when it is done"
	case st.Phase == state.PhaseInitial:
		es.Phase, es.Description = st.Phase, "initial sync in progress"
	case st.Phase == state.PhaseRebaseline:
		es.Phase, es.Description = st.Phase, "the delta token expired; a full read starts at the next poll"
	case st.Phase == state.PhaseDelta && st.Sweep.Started:
		es.Phase, es.Description = st.Phase, fmt.Sprintf("running: full read done; removing the rows the source no longer has (%d of its keys compared so far)", st.Sweep.Keys)
	case st.Phase == state.PhaseDelta && es.Pending > 0:
		es.Phase, es.Description = st.Phase, fmt.Sprintf("running: every row read, %d waiting on the queue to be applied", es.Pending)
	case st.Phase == state.PhaseDelta:
		es.Phase, es.Description = st.Phase, "running: initial sync done, changes are followed"
	default:
		es.Phase, es.Description = st.Phase, string(st.Phase)
	}
	if b := st.Backfill; b.Pending && es.Phase != state.PhaseBlocked {
		es.Backfill = &BackfillStatus{Columns: b.Columns, ChangedAfter: b.Since, PagesRead: b.Pages}
		if len(b.Columns) > 0 {
			es.Description += "; reading rows again for the added columns " + strings.Join(b.Columns, ", ")
		} else {
			es.Description += "; reading every row again into its table, created again"
		}
	}
	if st.Sweep.Scan != "" {
		es.Sweep = &SweepStatus{Started: st.Sweep.Started, KeysStaged: st.Sweep.Keys}
	}
	if !st.SweptAt.IsZero() {
		es.LastSweep = &LastSweep{RowsRemoved: st.Swept, At: st.SweptAt.UTC()}
	}
	if stored && !active && es.Phase != state.PhaseBlocked {
		es.Description += " (paused: the profile is inactive)"
	}
	return es
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
