package sync

import (
	"time"

	"github.com/dataexport/dataexport/internal/record"
)

// modifiedOn is the Dataverse column that says when a record last changed.
const modifiedOn = "modifiedon"

// changeLag is how long the newest change of a delta batch took from
// Dataverse (its modifiedon) to now, when it was applied. Pages of a full
// read report none: their rows changed long before they were read.
func changeLag(m *Message, now time.Time) (time.Duration, bool) {
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
	var newest time.Time
	for _, r := range m.Batch.Upserts {
		if col < len(r.Values) && r.Values[col].Kind == record.DateTime && r.Values[col].T.After(newest) {
			newest = r.Values[col].T
		}
	}
	if newest.IsZero() {
		return 0, false
	}
	// A source clock ahead of ours is no lag.
	return max(now.Sub(newest), 0), true
}
