package manage

import (
	"context"
	"fmt"

	"github.com/dataexport/dataexport/internal/dataverse"
)

// SourceEntity is one table of the org, as offered for export.
type SourceEntity struct {
	LogicalName           string `json:"logicalName"`
	SchemaName            string `json:"schemaName"`
	DisplayName           string `json:"displayName"`
	ChangeTrackingEnabled bool   `json:"changeTrackingEnabled"`
	IsIntersect           bool   `json:"isIntersect"`
	IsActivity            bool   `json:"isActivity"`
	// Eligible is whether the entity can be added to a profile; Reason
	// says why not.
	Eligible bool   `json:"eligible"`
	Reason   string `json:"reason,omitempty"`
}

// SourceRelationship is an N:N relationship, replicated through its
// intersect entity.
type SourceRelationship struct {
	SchemaName      string `json:"schemaName"`
	IntersectEntity string `json:"intersectEntity"`
	Entity1         string `json:"entity1"`
	Entity2         string `json:"entity2"`
	IsCustom        bool   `json:"isCustom"`
}

// SourceCatalog is what an administrator chooses from.
type SourceCatalog struct {
	Entities      []SourceEntity       `json:"entities"`
	Relationships []SourceRelationship `json:"relationships"`
}

// SourceEntities lists the org's tables with their change-tracking flag
// and display names, and the N:N relationships among them.
func (s *Service) SourceEntities(ctx context.Context) (SourceCatalog, error) {
	cat, err := s.d.Source.Catalog(ctx)
	if err != nil {
		return SourceCatalog{}, fmt.Errorf("%w: reading the Dataverse org's tables: %v", ErrUnavailable, err)
	}
	byName := make(map[string]dataverse.CatalogEntity, len(cat.Entities))
	for _, e := range cat.Entities {
		byName[e.LogicalName] = e
	}
	out := SourceCatalog{Entities: []SourceEntity{}, Relationships: []SourceRelationship{}}
	for _, e := range cat.Entities {
		reason := eligibility(byName, e.LogicalName)
		out.Entities = append(out.Entities, SourceEntity{
			LogicalName: e.LogicalName, SchemaName: e.SchemaName, DisplayName: e.DisplayName,
			ChangeTrackingEnabled: e.ChangeTrackingEnabled, IsIntersect: e.IsIntersect, IsActivity: e.IsActivity,
			Eligible: reason == "", Reason: reason,
		})
	}
	for _, r := range cat.Relationships {
		out.Relationships = append(out.Relationships, SourceRelationship{
			SchemaName: r.SchemaName, IntersectEntity: r.IntersectEntityName,
			Entity1: r.Entity1LogicalName, Entity2: r.Entity2LogicalName, IsCustom: r.IsCustomRelationship,
		})
	}
	return out, nil
}
