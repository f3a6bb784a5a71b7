package dataverse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// benchEntity is account-shaped: 44 replicated columns across every kind
// (lookups count twice: GUID and entity type).
func benchEntity() *Entity {
	e := &Entity{LogicalName: "account", EntitySetName: "accounts", PrimaryIDAttribute: "accountid"}
	add := func(name string, t AttributeType, mod func(*Attribute)) {
		a := Attribute{LogicalName: name, Type: t, IsValidForRead: true}
		if mod != nil {
			mod(&a)
		}
		e.Attributes = append(e.Attributes, a)
	}
	add("accountid", TypeUniqueidentifier, func(a *Attribute) { a.IsPrimaryID = true })
	for i := range 14 {
		add(fmt.Sprintf("string%d", i), TypeString, nil)
	}
	add("description", TypeMemo, nil)
	for i := range 4 {
		add(fmt.Sprintf("int%d", i), TypeInteger, nil)
	}
	for i := range 4 {
		add(fmt.Sprintf("money%d", i), TypeMoney, nil)
	}
	add("exchangerate", TypeDecimal, nil)
	add("address1_latitude", TypeDouble, nil)
	add("address1_longitude", TypeDouble, nil)
	for i := range 3 {
		add(fmt.Sprintf("bool%d", i), TypeBoolean, nil)
	}
	for i := range 3 {
		add(fmt.Sprintf("picklist%d", i), TypePicklist, nil)
	}
	add("statecode", TypeState, nil)
	add("statuscode", TypeStatus, nil)
	add("createdon", TypeDateTime, nil)
	add("modifiedon", TypeDateTime, nil)
	add("lastonholdtime", TypeDateTime, func(a *Attribute) { a.DateTimeBehavior = DateOnly })
	add("ownerid", TypeOwner, func(a *Attribute) { a.Targets = []string{"systemuser", "team"} })
	add("parentaccountid", TypeLookup, func(a *Attribute) { a.Targets = []string{"account"} })
	add("primarycontactid", TypeLookup, func(a *Attribute) { a.Targets = []string{"contact"} })
	add("versionnumber", TypeBigInt, nil)
	return e
}

// withHelpers adds the lookup helpers DES exported to e (copy): the
// owner's name, yomi name and type, and the other lookups' names.
func withHelpers(e *Entity) *Entity {
	c := *e
	c.Attributes = slices.Clone(e.Attributes)
	for _, h := range []Attribute{
		{LogicalName: "owneridname", Type: TypeString, MaxLength: 100, AttributeOf: "ownerid"},
		{LogicalName: "owneridyominame", Type: TypeString, MaxLength: 100, AttributeOf: "ownerid"},
		{LogicalName: "owneridtype", Type: TypeEntityName, AttributeOf: "ownerid"},
		{LogicalName: "parentaccountidname", Type: TypeString, MaxLength: 160, AttributeOf: "parentaccountid"},
		{LogicalName: "primarycontactidname", Type: TypeString, MaxLength: 160, AttributeOf: "primarycontactid"},
	} {
		h.IsValidForRead = true
		c.Attributes = append(c.Attributes, h)
	}
	return &c
}

func guid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
}

// pageStyle says which annotations a rendered page carries.
type pageStyle int

const (
	// styleClassic: lookuplogicalname and associatednavigationproperty on
	// lookups, a FormattedValue on picklists (the page of earlier runs).
	styleClassic pageStyle = iota
	// styleLookupTypes: what Prefer: odata.include-annotations=
	// "…lookuplogicalname,…globalmetadataversion" brings: no FormattedValue.
	styleLookupTypes
	// styleFormatted: FormattedValue asked for too, so Dataverse annotates
	// every formattable property (numbers, money, dates, choices, yes/no,
	// lookups), as the documentation describes.
	styleFormatted
)

// benchPage renders rows of e the way the Web API does (etag, annotations).
func benchPage(e *Entity, rows int) []byte { return benchPageStyled(e, rows, styleClassic) }

func benchPageStyled(e *Entity, rows int, style pageStyle) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":"https://org.crm.dynamics.com/api/data/v9.2/$metadata#accounts","value":[`)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"@odata.etag":"W/\"%d\""`, 1000000+i)
		for _, a := range e.Attributes {
			if a.AttributeOf != "" {
				continue // helpers are annotations, not properties
			}
			if style == styleFormatted {
				formatted(&b, r, &a)
			}
			switch a.Type {
			case TypeUniqueidentifier:
				fmt.Fprintf(&b, `,"%s":"%s"`, a.LogicalName, guid(r))
			case TypeString:
				fmt.Fprintf(&b, `,"%s":"Value %d of %s, a typical text"`, a.LogicalName, r.IntN(100000), a.LogicalName)
			case TypeMemo:
				fmt.Fprintf(&b, `,"%s":"A longer description line with \"quotes\" and\nnewlines, row %d."`, a.LogicalName, i)
			case TypeInteger, TypePicklist:
				fmt.Fprintf(&b, `,"%s":%d`, a.LogicalName, r.IntN(1000000))
				if a.Type == TypePicklist && style == styleClassic {
					fmt.Fprintf(&b, `,"%s@OData.Community.Display.V1.FormattedValue":"Label %d"`, a.LogicalName, r.IntN(10))
				}
			case TypeMoney, TypeDecimal:
				fmt.Fprintf(&b, `,"%s":%d.%04d`, a.LogicalName, r.IntN(10000000), r.IntN(10000))
			case TypeDouble:
				fmt.Fprintf(&b, `,"%s":%.5f`, a.LogicalName, r.Float64()*180-90)
			case TypeBoolean:
				fmt.Fprintf(&b, `,"%s":%t`, a.LogicalName, r.IntN(2) == 0)
			case TypeState, TypeStatus:
				fmt.Fprintf(&b, `,"%s":%d`, a.LogicalName, r.IntN(2))
			case TypeDateTime:
				if a.DateTimeBehavior == DateOnly {
					fmt.Fprintf(&b, `,"%s":"2023-%02d-%02d"`, a.LogicalName, 1+r.IntN(12), 1+r.IntN(28))
				} else {
					fmt.Fprintf(&b, `,"%s":"2023-%02d-%02dT%02d:%02d:%02dZ"`, a.LogicalName, 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
				}
			case TypeOwner, TypeLookup:
				target := a.Targets[r.IntN(len(a.Targets))]
				fmt.Fprintf(&b, `,"_%s_value@Microsoft.Dynamics.CRM.associatednavigationproperty":"%s"`, a.LogicalName, a.LogicalName)
				fmt.Fprintf(&b, `,"_%s_value@Microsoft.Dynamics.CRM.lookuplogicalname":"%s"`, a.LogicalName, target)
				fmt.Fprintf(&b, `,"_%s_value":"%s"`, a.LogicalName, guid(r))
			case TypeBigInt:
				fmt.Fprintf(&b, `,"%s":%d`, a.LogicalName, 1000000+i)
			}
		}
		b.WriteByte('}')
	}
	b.WriteString(`],"@odata.deltaLink":"https://org.crm.dynamics.com/api/data/v9.2/accounts?$deltatoken=1%2101%2f01%2f2026%2000%3a00%3a00"}`)
	return b.Bytes()
}

// formatted writes the FormattedValue annotation Dataverse sends for a's
// value (before the value, as in the documentation's examples).
func formatted(b *bytes.Buffer, r *rand.Rand, a *Attribute) {
	key, f := a.LogicalName, ""
	switch a.Type {
	case TypeInteger:
		f = fmt.Sprintf("%d,%03d", r.IntN(1000), r.IntN(1000))
	case TypePicklist, TypeState, TypeStatus:
		f = fmt.Sprintf("Label %d", r.IntN(10))
	case TypeMoney:
		f = fmt.Sprintf("$%d,%03d.%02d", r.IntN(10000), r.IntN(1000), r.IntN(100))
	case TypeDecimal, TypeDouble:
		f = fmt.Sprintf("%d.%05d", r.IntN(100), r.IntN(100000))
	case TypeBoolean:
		f = []string{"Yes", "No"}[r.IntN(2)]
	case TypeDateTime:
		f = fmt.Sprintf("%d/%d/2023 %d:%02d PM", 1+r.IntN(12), 1+r.IntN(28), 1+r.IntN(12), r.IntN(60))
	case TypeBigInt:
		f = fmt.Sprintf("%d,%03d,%03d", 1+r.IntN(9), r.IntN(1000), r.IntN(1000))
	case TypeOwner, TypeLookup:
		key = "_" + a.LogicalName + "_value"
		f = fmt.Sprintf("%s %d of a typical length", a.LogicalName, r.IntN(100000))
	default:
		return
	}
	fmt.Fprintf(b, `,"%s@OData.Community.Display.V1.FormattedValue":"%s"`, key, f)
}

const benchRows = 5000

// BenchmarkDecodePage: the client's token-level typed decoder against
// encoding/json into []map[string]any (the baseline), on the same page.
func BenchmarkDecodePage(b *testing.B) {
	e := benchEntity()
	fields := Fields(e)
	if len(fields) != 44 {
		b.Fatalf("%d fields, want 44", len(fields))
	}
	body := benchPage(e, benchRows)
	b.Run("jsontext-typed", func(b *testing.B) {
		dec := newPageDecoder(newRowPlan(e, fields))
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		before := memStats()
		for b.Loop() {
			var page ChangesPage
			if _, err := dec.decode(bytes.NewReader(body), 1, &page); err != nil {
				b.Fatal(err)
			}
			if len(page.Upserts) != benchRows {
				b.Fatalf("%d rows", len(page.Upserts))
			}
		}
		reportRows(b, before)
	})
	// The same rows without versionnumber: the version comes from each
	// row's @odata.etag, as in Microsoft's change-tracking examples.
	noVersion := *e
	noVersion.Attributes = slices.DeleteFunc(slices.Clone(e.Attributes), func(a Attribute) bool { return a.LogicalName == VersionAttribute })
	etagBody := benchPage(&noVersion, benchRows)
	b.Run("jsontext-typed-etag-version", func(b *testing.B) {
		dec := newPageDecoder(newRowPlan(e, fields))
		b.SetBytes(int64(len(etagBody)))
		b.ReportAllocs()
		before := memStats()
		for b.Loop() {
			var page ChangesPage
			if _, err := dec.decode(bytes.NewReader(etagBody), 1, &page); err != nil {
				b.Fatal(err)
			}
			if len(page.Upserts) != benchRows || page.Upserts[1].Version != 1000001 {
				b.Fatalf("%d rows", len(page.Upserts))
			}
		}
		reportRows(b, before)
	})
	// What the lookup helper columns cost: the same rows read as before
	// them (lookup types only, 44 columns) and with them (formatted values
	// asked for, so every formattable property carries one, 49 columns
	// with the names and the owner's type filled).
	plain := benchPageStyled(e, benchRows, styleLookupTypes)
	helpers := withHelpers(e)
	hfields := Fields(helpers)
	if len(hfields) != 49 || !NeedsFormattedValues(hfields) {
		b.Fatalf("%d helper fields", len(hfields))
	}
	named := benchPageStyled(helpers, benchRows, styleFormatted)
	b.Run("helpers-before-lookup-types-only", func(b *testing.B) {
		benchDecode(b, newRowPlan(e, fields), plain, "")
	})
	b.Run("helpers-after-formatted-values", func(b *testing.B) {
		benchDecode(b, newRowPlan(helpers, hfields), named, "owneridname")
	})
	b.Run("encoding-json-map-baseline", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		before := memStats()
		for b.Loop() {
			var page struct {
				Value []map[string]any `json:"value"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				b.Fatal(err)
			}
			if len(page.Value) != benchRows {
				b.Fatalf("%d rows", len(page.Value))
			}
		}
		reportRows(b, before)
	})
}

// benchDecode decodes body with plan; a named column must be filled.
func benchDecode(b *testing.B, plan *rowPlan, body []byte, named string) {
	dec := newPageDecoder(plan)
	col := -1
	for i, c := range plan.cols {
		if c.Name == named {
			col = i
		}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	before := memStats()
	for b.Loop() {
		var page ChangesPage
		if _, err := dec.decode(bytes.NewReader(body), 1, &page); err != nil {
			b.Fatal(err)
		}
		if len(page.Upserts) != benchRows || (col >= 0 && page.Upserts[0].Values[col].IsNull()) {
			b.Fatalf("%d rows", len(page.Upserts))
		}
	}
	reportRows(b, before)
	b.ReportMetric(float64(len(body))/benchRows, "bytes/row")
}

// reportRows adds per-row figures (allocs/op and B/op are per 5,000-row page).
func reportRows(b *testing.B, before *runtime.MemStats) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rows := float64(b.N) * benchRows
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/rows, "allocs/row")
}

func memStats() *runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &m
}
