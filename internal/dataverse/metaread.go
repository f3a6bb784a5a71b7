package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
)

// Metadata responses are small and read once per poll at most, so they are
// decoded with encoding/json into wire structs mirroring the Web API names.

type wireLabel struct {
	Label        string
	LanguageCode int
}

type wireLabels struct {
	LocalizedLabels    []wireLabel
	UserLocalizedLabel *wireLabel
}

type wireOption struct {
	Value         *int
	Label         *wireLabels
	State         *int
	DefaultStatus *int
	InvariantName *string
}

type wireOptionSet struct {
	MetadataId    string
	Name          string
	IsGlobal      bool
	OptionSetType string
	Options       []wireOption
	TrueOption    *wireOption
	FalseOption   *wireOption
}

type wireValue struct{ Value string }

type wireAttribute struct {
	ODataType         string `json:"@odata.type"`
	MetadataId        string
	LogicalName       string
	SchemaName        string
	AttributeType     string
	AttributeTypeName *wireValue
	IsValidForRead    *bool
	IsPrimaryId       bool
	IsPrimaryName     bool
	IsLogical         bool
	IsCustomAttribute bool
	AttributeOf       *string
	SourceType        *int
	// Type-specific, from the cast queries.
	MaxLength        *int
	Precision        *int
	PrecisionSource  *int
	MinValue         *float64
	MaxValue         *float64
	Targets          []string
	DateTimeBehavior *wireValue
	Format           *string
	FormatName       *wireValue
	OptionSet        *wireOptionSet
	GlobalOptionSet  *wireOptionSet
}

type wireEntity struct {
	MetadataId            string
	LogicalName           string
	SchemaName            string
	EntitySetName         string
	PrimaryIdAttribute    string
	PrimaryNameAttribute  string
	ObjectTypeCode        int
	OwnershipType         string
	ChangeTrackingEnabled bool
	IsIntersect           bool
	IsActivity            bool
	Attributes            []wireAttribute
}

type wireM2M struct {
	MetadataId                string
	SchemaName                string
	IntersectEntityName       string
	Entity1LogicalName        string
	Entity1IntersectAttribute string
	Entity2LogicalName        string
	Entity2IntersectAttribute string
	IsCustomRelationship      bool
}

// castQuery is one derived-type query for type-specific attribute properties
// ($expand=Attributes yields only the common ones, one cast per request).
type castQuery struct {
	cast  string
	types []AttributeType
	query string
}

var castQueries = []castQuery{
	{"StringAttributeMetadata", []AttributeType{TypeString}, "$select=LogicalName,MaxLength,FormatName"},
	{"MemoAttributeMetadata", []AttributeType{TypeMemo}, "$select=LogicalName,MaxLength"},
	{"IntegerAttributeMetadata", []AttributeType{TypeInteger}, "$select=LogicalName,MinValue,MaxValue,Format"},
	{"BigIntAttributeMetadata", []AttributeType{TypeBigInt}, "$select=LogicalName,MinValue,MaxValue"},
	{"DecimalAttributeMetadata", []AttributeType{TypeDecimal}, "$select=LogicalName,Precision,MinValue,MaxValue"},
	{"DoubleAttributeMetadata", []AttributeType{TypeDouble}, "$select=LogicalName,Precision,MinValue,MaxValue"},
	{"MoneyAttributeMetadata", []AttributeType{TypeMoney}, "$select=LogicalName,Precision,PrecisionSource,MinValue,MaxValue"},
	{"DateTimeAttributeMetadata", []AttributeType{TypeDateTime}, "$select=LogicalName,DateTimeBehavior,Format"},
	{"LookupAttributeMetadata", []AttributeType{TypeLookup, TypeCustomer, TypeOwner}, "$select=LogicalName,Targets"},
	{"PicklistAttributeMetadata", []AttributeType{TypePicklist}, "$select=LogicalName&$expand=OptionSet,GlobalOptionSet"},
	{"MultiSelectPicklistAttributeMetadata", []AttributeType{TypeMultiSelectPicklist}, "$select=LogicalName&$expand=OptionSet,GlobalOptionSet"},
	{"StateAttributeMetadata", []AttributeType{TypeState}, "$select=LogicalName&$expand=OptionSet"},
	{"StatusAttributeMetadata", []AttributeType{TypeStatus}, "$select=LogicalName&$expand=OptionSet"},
	{"BooleanAttributeMetadata", []AttributeType{TypeBoolean}, "$select=LogicalName&$expand=OptionSet"},
}

const entitySelect = "MetadataId,LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute," +
	"ObjectTypeCode,OwnershipType,ChangeTrackingEnabled,IsIntersect,IsActivity"

const attributeSelect = "MetadataId,LogicalName,SchemaName,AttributeType,AttributeTypeName,IsValidForRead," +
	"IsPrimaryId,IsPrimaryName,IsLogical,IsCustomAttribute,AttributeOf,SourceType"

// Entity reads the definition of one table: the entity, its attributes with
// their type-specific properties (one cast query per attribute type present,
// run concurrently) and its N:N relationships.
func (c *Client) Entity(ctx context.Context, logicalName string) (*Entity, error) {
	if logicalName == "" || strings.ContainsAny(logicalName, "'/?#&") {
		return nil, fmt.Errorf("dataverse: invalid entity logical name %q", logicalName)
	}
	root := c.base + "EntityDefinitions(LogicalName='" + url.PathEscape(logicalName) + "')"
	var env struct {
		wireEntity
		Value []wireEntity // one doc example wraps the keyed GET in a collection
	}
	if err := c.getJSON(ctx, logicalName, root+"?$select="+entitySelect+"&$expand=Attributes($select="+attributeSelect+")", &env); err != nil {
		return nil, err
	}
	we := env.wireEntity
	if we.LogicalName == "" && len(env.Value) == 1 {
		we = env.Value[0]
	}
	if we.LogicalName == "" {
		return nil, &MalformedError{Entity: logicalName, Reason: "entity definition without LogicalName"}
	}
	e := convertEntity(&we)
	if err := checkTypes(e); err != nil {
		return nil, err
	}
	present := map[AttributeType]bool{}
	for _, a := range e.Attributes {
		present[a.Type] = true
	}
	index := make(map[string]int, len(e.Attributes))
	for i, a := range e.Attributes {
		index[a.LogicalName] = i
	}

	type result struct {
		attrs []wireAttribute
		err   error
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = make([]result, len(castQueries))
		m2m     []wireM2M
		m2mErr  error
	)
	for i, q := range castQueries {
		needed := false
		for _, t := range q.types {
			needed = needed || present[t]
		}
		if !needed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var coll struct{ Value []wireAttribute }
			err := c.getJSON(ctx, logicalName, root+"/Attributes/Microsoft.Dynamics.CRM."+q.cast+"?"+q.query, &coll)
			mu.Lock()
			results[i] = result{coll.Value, err}
			mu.Unlock()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var coll struct{ Value []wireM2M }
		err := c.getJSON(ctx, logicalName, root+"/ManyToManyRelationships?$select=MetadataId,SchemaName,IntersectEntityName,"+
			"Entity1LogicalName,Entity1IntersectAttribute,Entity2LogicalName,Entity2IntersectAttribute,IsCustomRelationship", &coll)
		mu.Lock()
		m2m, m2mErr = coll.Value, err
		mu.Unlock()
	}()
	wg.Wait()

	for i, r := range results {
		if r.err != nil {
			return nil, fmt.Errorf("dataverse: %s %s: %w", logicalName, castQueries[i].cast, r.err)
		}
		for j := range r.attrs {
			if k, ok := index[r.attrs[j].LogicalName]; ok {
				applyCast(&e.Attributes[k], &r.attrs[j])
			}
		}
	}
	switch {
	case errors.Is(m2mErr, ErrNotFound):
		// The entity exists (first query), so a 404 here means a service
		// without this navigation (the emulator): no N:N known, not a failure.
		c.log.DebugContext(ctx, "dataverse: ManyToManyRelationships not served", slog.String("entity", logicalName))
	case m2mErr != nil:
		return nil, fmt.Errorf("dataverse: %s many-to-many relationships: %w", logicalName, m2mErr)
	}
	for _, r := range m2m {
		e.ManyToMany = append(e.ManyToMany, ManyToManyRelationship{
			MetadataID: r.MetadataId, SchemaName: r.SchemaName, IntersectEntityName: r.IntersectEntityName,
			Entity1LogicalName: r.Entity1LogicalName, Entity1IntersectAttribute: r.Entity1IntersectAttribute,
			Entity2LogicalName: r.Entity2LogicalName, Entity2IntersectAttribute: r.Entity2IntersectAttribute,
			IsCustomRelationship: r.IsCustomRelationship,
		})
	}
	return e, nil
}

// getJSON GETs a metadata resource and decodes it into v.
func (c *Client) getJSON(ctx context.Context, entity, u string, v any) error {
	resp, err := c.get(ctx, request{url: u, entity: entity, strong: IsStrongConsistency(ctx)})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return &MalformedError{Entity: entity, Reason: "metadata", Err: err}
	}
	return nil
}

func convertEntity(w *wireEntity) *Entity {
	e := &Entity{
		MetadataID:            w.MetadataId,
		LogicalName:           w.LogicalName,
		SchemaName:            w.SchemaName,
		EntitySetName:         w.EntitySetName,
		PrimaryIDAttribute:    w.PrimaryIdAttribute,
		PrimaryNameAttribute:  w.PrimaryNameAttribute,
		ObjectTypeCode:        w.ObjectTypeCode,
		OwnershipType:         w.OwnershipType,
		ChangeTrackingEnabled: w.ChangeTrackingEnabled,
		IsIntersect:           w.IsIntersect,
		IsActivity:            w.IsActivity,
		Attributes:            make([]Attribute, 0, len(w.Attributes)),
	}
	for i := range w.Attributes {
		wa := &w.Attributes[i]
		a := Attribute{
			MetadataID:        wa.MetadataId,
			LogicalName:       wa.LogicalName,
			SchemaName:        wa.SchemaName,
			AttributeTypeRaw:  wa.AttributeType,
			ODataType:         wa.ODataType,
			IsValidForRead:    wa.IsValidForRead == nil || *wa.IsValidForRead,
			IsPrimaryID:       wa.IsPrimaryId,
			IsPrimaryName:     wa.IsPrimaryName,
			IsLogical:         wa.IsLogical,
			IsCustomAttribute: wa.IsCustomAttribute,
		}
		if wa.AttributeTypeName != nil {
			a.Type = AttributeType(wa.AttributeTypeName.Value)
		} else {
			// Older answers without AttributeTypeName: the AttributeType enum name
			// plus "Type" matches except for the Virtual-reported kinds.
			a.Type = AttributeType(wa.AttributeType + "Type")
		}
		if wa.AttributeOf != nil {
			a.AttributeOf = *wa.AttributeOf
		}
		if wa.SourceType != nil {
			a.SourceType = *wa.SourceType
		}
		applyCast(&a, wa)
		e.Attributes = append(e.Attributes, a)
	}
	return e
}

// checkTypes refuses an attribute type this build does not know: guessing a
// column for it could write wrong values, and leaving it out silently would
// lose a column the user expects. The entity stops (nothing of it is read
// or checkpointed) until a release that knows the type.
func checkTypes(e *Entity) error {
	for _, a := range e.Attributes {
		if !a.Type.Known() {
			return &MalformedError{Entity: e.LogicalName, Reason: fmt.Sprintf("attribute %s has unknown type %q", a.LogicalName, a.Type)}
		}
	}
	return nil
}

// applyCast copies the type-specific properties present in w onto a.
func applyCast(a *Attribute, w *wireAttribute) {
	if w.MaxLength != nil {
		a.MaxLength = *w.MaxLength
	}
	if w.Precision != nil {
		a.Precision = *w.Precision
	}
	if w.PrecisionSource != nil {
		a.PrecisionSource = *w.PrecisionSource
	}
	if w.MinValue != nil {
		a.MinValue = w.MinValue
	}
	if w.MaxValue != nil {
		a.MaxValue = w.MaxValue
	}
	if w.Targets != nil {
		a.Targets = w.Targets
	}
	if w.DateTimeBehavior != nil && w.DateTimeBehavior.Value != "" {
		a.DateTimeBehavior = DateTimeBehavior(w.DateTimeBehavior.Value)
	}
	if w.Format != nil {
		a.Format = *w.Format
	}
	if w.FormatName != nil && w.FormatName.Value != "" {
		a.Format = w.FormatName.Value
	}
	os := w.OptionSet
	if os == nil || (len(os.Options) == 0 && os.TrueOption == nil && w.GlobalOptionSet != nil) {
		os = w.GlobalOptionSet // either one carries the options, local or global
	}
	if os != nil {
		a.OptionSet = convertOptionSet(os)
	}
}

func convertOptionSet(w *wireOptionSet) *OptionSet {
	s := &OptionSet{MetadataID: w.MetadataId, Name: w.Name, IsGlobal: w.IsGlobal, OptionSetType: w.OptionSetType}
	for i := range w.Options {
		if o, ok := convertOption(&w.Options[i]); ok {
			s.Options = append(s.Options, o)
		}
	}
	if o, ok := convertOption(w.TrueOption); ok {
		s.TrueOption = &o
	}
	if o, ok := convertOption(w.FalseOption); ok {
		s.FalseOption = &o
	}
	return s
}

func convertOption(w *wireOption) (Option, bool) {
	if w == nil || w.Value == nil {
		return Option{}, false
	}
	o := Option{Value: *w.Value, State: w.State, DefaultStatus: w.DefaultStatus}
	if w.InvariantName != nil {
		o.InvariantName = *w.InvariantName
	}
	if w.Label != nil {
		for _, l := range w.Label.LocalizedLabels {
			o.Labels = append(o.Labels, Label(l))
		}
		if w.Label.UserLocalizedLabel != nil {
			l := Label(*w.Label.UserLocalizedLabel)
			o.UserLabel = &l
		}
	}
	return o, true
}

type strongKey struct{}

// StrongConsistency makes the metadata reads made with ctx ask for the
// definitions as stored rather than a server's cached copy (header
// Consistency: Strong). The docs warn it costs the server, so it is for the
// read that follows a known schema change, not for every refresh.
func StrongConsistency(ctx context.Context) context.Context {
	return context.WithValue(ctx, strongKey{}, true)
}

// IsStrongConsistency reports whether ctx asks for StrongConsistency.
func IsStrongConsistency(ctx context.Context) bool {
	strong, _ := ctx.Value(strongKey{}).(bool)
	return strong
}
