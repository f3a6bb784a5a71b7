package sync

import (
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

// modifiedOn is the Dataverse column that says when a record last changed.
const modifiedOn = "modifiedon"

// changeLag is how long the newest change of a delta batch took from
// Dataverse (its modifiedon) to now, when it was applied. Pages of a full
// read report none: their rows changed long before they were read. Rows the
// destination refused did not arrive: they are no measure of it (a batch
// refused whole has no lag).
func changeLag(m *Message, now time.Time, rejected []sink.Rejection) (time.Duration, bool) {
	if m.Kind != KindDelta {
		return 0, false
	}
	col := -1
	for i, c := range m.Batch.Columns {
		if c.Name == modifiedOn && c.Kind == record.DateTime {
			col = i
			break
		}
	}
	if col < 0 {
		return 0, false
	}
	refused := map[string]bool{}
	for _, r := range rejected {
		if !r.Delete {
			refused[strings.ToLower(r.ID)] = true
		}
	}
	var newest time.Time
	for _, r := range m.Batch.Upserts {
		if refused[strings.ToLower(r.ID)] {
			continue
		}
		if col < len(r.Values) && r.Values[col].Kind == record.DateTime && r.Values[col].Time().After(newest) {
			newest = r.Values[col].Time()
		}
	}
	if newest.IsZero() {
		return 0, false
	}
	// A source clock ahead of ours is no lag.
	return max(now.Sub(newest), 0), true
}
