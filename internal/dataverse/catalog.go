package dataverse

import (
	"context"
	"slices"
	"strings"
)

// CatalogEntity is one table of the org as offered for export: what an
// administrator chooses from.
type CatalogEntity struct {
	LogicalName           string
	SchemaName            string
	DisplayName           string // the user's language label, else the first label, else SchemaName
	ChangeTrackingEnabled bool
	IsIntersect           bool
	IsActivity            bool
}

// Catalog is the org's tables and the N:N relationships among them.
type Catalog struct {
	Entities      []CatalogEntity          // by logical name
	Relationships []ManyToManyRelationship // by schema name, each once
}

const catalogSelect = "LogicalName,SchemaName,DisplayName,ChangeTrackingEnabled,IsIntersect,IsActivity"

const m2mSelect = "SchemaName,IntersectEntityName,Entity1LogicalName,Entity1IntersectAttribute," +
	"Entity2LogicalName,Entity2IntersectAttribute,IsCustomRelationship"

// Catalog reads every entity definition (without attributes) and its N:N
// relationships in one request: EntityDefinitions with
// $expand=ManyToManyRelationships. A relationship appears under both of its
// entities; it is listed once.
func (c *Client) Catalog(ctx context.Context) (*Catalog, error) {
	var coll struct {
		Value []struct {
			LogicalName             string
			SchemaName              string
			DisplayName             *wireLabels
			ChangeTrackingEnabled   bool
			IsIntersect             bool
			IsActivity              bool
			ManyToManyRelationships []wireM2M
		}
	}
	u := c.base + "EntityDefinitions?$select=" + catalogSelect + "&$expand=ManyToManyRelationships($select=" + m2mSelect + ")"
	if err := c.getJSON(ctx, "EntityDefinitions", u, &coll); err != nil {
		return nil, err
	}
	out := &Catalog{}
	seen := map[string]bool{}
	for _, w := range coll.Value {
		out.Entities = append(out.Entities, CatalogEntity{
			LogicalName: w.LogicalName, SchemaName: w.SchemaName, DisplayName: labelText(w.DisplayName, w.SchemaName),
			ChangeTrackingEnabled: w.ChangeTrackingEnabled, IsIntersect: w.IsIntersect, IsActivity: w.IsActivity,
		})
		for _, r := range w.ManyToManyRelationships {
			if seen[r.SchemaName] {
				continue
			}
			seen[r.SchemaName] = true
			out.Relationships = append(out.Relationships, ManyToManyRelationship{
				MetadataID: r.MetadataId, SchemaName: r.SchemaName, IntersectEntityName: r.IntersectEntityName,
				Entity1LogicalName: r.Entity1LogicalName, Entity1IntersectAttribute: r.Entity1IntersectAttribute,
				Entity2LogicalName: r.Entity2LogicalName, Entity2IntersectAttribute: r.Entity2IntersectAttribute,
				IsCustomRelationship: r.IsCustomRelationship,
			})
		}
	}
	slices.SortFunc(out.Entities, func(a, b CatalogEntity) int { return strings.Compare(a.LogicalName, b.LogicalName) })
	slices.SortFunc(out.Relationships, func(a, b ManyToManyRelationship) int { return strings.Compare(a.SchemaName, b.SchemaName) })
	return out, nil
}

// labelText is the label in the user's language, else the first localized
// one, else def.
func labelText(l *wireLabels, def string) string {
	if l == nil {
		return def
	}
	if l.UserLocalizedLabel != nil && l.UserLocalizedLabel.Label != "" {
		return l.UserLocalizedLabel.Label
	}
	for _, x := range l.LocalizedLabels {
		if x.Label != "" {
			return x.Label
		}
	}
	return def
}
