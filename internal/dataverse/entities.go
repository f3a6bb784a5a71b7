package dataverse

import (
	"context"
	"slices"
	"strings"
)

// Entities lists the entity definitions of the environment, without their
// attributes (use Entity for one table's full definition). trackedOnly keeps
// the entities with change tracking enabled. Filtering happens here rather
// than with $filter, which keeps one request shape for every server.
func (c *Client) Entities(ctx context.Context, trackedOnly bool) ([]Entity, error) {
	var coll struct{ Value []wireEntity }
	if err := c.getJSON(ctx, "EntityDefinitions", c.base+"EntityDefinitions?$select="+entitySelect, &coll); err != nil {
		return nil, err
	}
	out := make([]Entity, 0, len(coll.Value))
	for i := range coll.Value {
		w := &coll.Value[i]
		if trackedOnly && !w.ChangeTrackingEnabled {
			continue
		}
		out = append(out, *convertEntity(w))
	}
	slices.SortFunc(out, func(a, b Entity) int { return strings.Compare(a.LogicalName, b.LogicalName) })
	return out, nil
}
