package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// RecordCounts returns the number of rows of each entity, by logical name,
// with the RetrieveTotalRecordCount function: the documented way to count
// beyond the 5,000 rows $count stops at. Dataverse answers from a snapshot
// taken within the last 24 hours, so a count is an estimate of the size of
// a table (what a progress bar needs), not an exact figure.
func (c *Client) RecordCounts(ctx context.Context, logicalNames []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(logicalNames) == 0 {
		return out, nil
	}
	names, err := json.Marshal(logicalNames)
	if err != nil {
		return nil, err
	}
	u := c.base + "RetrieveTotalRecordCount(EntityNames=@p1)?@p1=" + url.QueryEscape(string(names))
	var resp struct {
		EntityRecordCountCollection struct {
			Keys   []string
			Values []int64
		}
	}
	if err := c.getJSON(ctx, "RetrieveTotalRecordCount", u, &resp); err != nil {
		return nil, err
	}
	coll := resp.EntityRecordCountCollection
	if len(coll.Keys) != len(coll.Values) {
		return nil, &MalformedError{Entity: "RetrieveTotalRecordCount", Reason: "record counts", Err: fmt.Errorf("%d keys and %d values", len(coll.Keys), len(coll.Values))}
	}
	for i, k := range coll.Keys {
		out[k] = coll.Values[i]
	}
	return out, nil
}
