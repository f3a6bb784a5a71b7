package dvemu

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Named value generators for sample rows (Attribute.Gen).

var (
	firstNames = []string{"Maria", "James", "Yvonne", "Monte", "Susan", "Nancy", "Rene", "Paul", "Sidney", "Scott", "Robert", "Thomas", "Jim", "Patrick", "Rachel", "Ana", "Li", "Aiko", "Omar", "Ingrid"}
	lastNames  = []string{"Campbell", "Orton", "McKay", "Anderson", "Higa", "Valdes", "Brown", "Cannon", "Higgins", "Konersmann", "Glynn", "Andrews", "Nguyen", "Tanaka", "Haddad", "Larsen", "García", "O'Neil", "Müller", "Smith"}
	companyA   = []string{"Adventure", "Fourth", "Blue", "Alpine", "Coho", "Litware", "Fabrikam", "Contoso", "Northwind", "Tailspin", "Wingtip", "Proseware", "Lucerne", "Margie's", "Trey", "City Power &"}
	companyB   = []string{"Works", "Coffee", "Yonder Airlines", "Ski House", "Winery", "Inc.", "Pharmaceuticals", "Traders", "Toys", "Travel", "Publishing", "Research", "Light", "Consulting", "Bikes"}
	cities     = []string{"Redmond", "Seattle", "Dallas", "Lisbon", "Osaka", "Zürich", "São Paulo", "Cape Town", "Dublin", "Toronto", "Lyon", "Kraków"}
	jobTitles  = []string{"Purchasing Manager", "Owner", "Sales Manager", "CFO", "Engineer", "Buyer", "Office Manager", "VP Operations"}
	words      = []string{"customer", "prefers", "email", "contact", "quarterly", "review", "renewal", "pending", "discount", "approved", "shipping", "delayed", "follow", "up", "next", "week", "große", "naïve", "café"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// generators keyed by Attribute.Gen. They return values in the store's Go
// forms (see values.go).
var generators = map[string]func(g *genCtx, a *Attribute) any{
	"languagecode": func(g *genCtx, a *Attribute) any { return int64(BaseLanguage) },
	"company": func(g *genCtx, a *Attribute) any {
		return pick(g.r, companyA) + " " + pick(g.r, companyB) + " (sample " + strconv.Itoa(g.i) + ")"
	},
	"accountnumber": func(g *genCtx, a *Attribute) any { return "AC-" + pad(g.r.IntN(1000000), 6) },
	"phone":         func(g *genCtx, a *Attribute) any { return "555-" + pad(g.r.IntN(10000), 4) },
	"city":          func(g *genCtx, a *Attribute) any { return pick(g.r, cities) },
	"firstname":     func(g *genCtx, a *Attribute) any { return pick(g.r, firstNames) },
	"lastname":      func(g *genCtx, a *Attribute) any { return pick(g.r, lastNames) },
	"jobtitle":      func(g *genCtx, a *Attribute) any { return pick(g.r, jobTitles) },
	"fullname": func(g *genCtx, a *Attribute) any {
		return fullName(g.val("firstname"), g.val("lastname"))
	},
	"companyemail": func(g *genCtx, a *Attribute) any { return "info" + strconv.Itoa(g.i) + "@example.com" },
	"personemail": func(g *genCtx, a *Attribute) any {
		ln, _ := g.val("lastname").(string)
		return strings.ToLower(asciiOnly(ln)) + strconv.Itoa(g.i) + "@example.com"
	},
	"sentence": func(g *genCtx, a *Attribute) any {
		n := 3 + g.r.IntN(12)
		ws := make([]string, n)
		for k := range ws {
			ws[k] = pick(g.r, words)
		}
		return strings.Join(ws, " ") + "."
	},
	"employees": func(g *genCtx, a *Attribute) any { return int64(1 + g.r.IntN(50000)) },
	"children":  func(g *genCtx, a *Attribute) any { return int64(g.r.IntN(5)) },
	"revenue": func(g *genCtx, a *Attribute) any {
		return decimalText(int64(g.r.IntN(1_000_000_000_00)), 2, a.Precision)
	},
	"income": func(g *genCtx, a *Attribute) any { return decimalText(int64(g.r.IntN(50_000_000)), 2, a.Precision) },
	"latitude": func(g *genCtx, a *Attribute) any {
		return decimalText(int64(g.r.IntN(18_000_000))-9_000_000, 5, a.Precision)
	},
	"percent": func(g *genCtx, a *Attribute) any { return decimalText(int64(g.r.IntN(5000)), 2, a.Precision) },
	"pastdate": func(g *genCtx, a *Attribute) any {
		return genEpoch.Add(-time.Duration(g.r.Int64N(3*365*24*3600)) * time.Second)
	},
	"birthdate": func(g *genCtx, a *Attribute) any {
		d := genEpoch.AddDate(-20-g.r.IntN(50), 0, -g.r.IntN(365))
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	},
	"createdon": func(g *genCtx, a *Attribute) any {
		return genEpoch.Add(-time.Duration(30*24*3600+g.r.Int64N(3*365*24*3600)) * time.Second)
	},
	"modifiedon": func(g *genCtx, a *Attribute) any {
		c, _ := g.val("createdon").(time.Time)
		if c.IsZero() {
			c = genEpoch.AddDate(-1, 0, 0)
		}
		return c.Add(time.Duration(g.r.Int64N(int64(genEpoch.Sub(c)/time.Second))) * time.Second)
	},
	"statecode": func(g *genCtx, a *Attribute) any {
		if g.r.IntN(10) == 0 {
			return int64(1)
		}
		return int64(0)
	},
	"statuscode": func(g *genCtx, a *Attribute) any {
		if s, _ := g.val("statecode").(int64); s == 1 {
			return int64(2)
		}
		return int64(1)
	},
	"owner": func(g *genCtx, a *Attribute) any {
		if g.r.IntN(5) == 0 {
			return Ref{Entity: "team", ID: baseID(g.e.opts.RandSeed, "team", g.r.IntN(2))}
		}
		return Ref{Entity: "systemuser", ID: baseID(g.e.opts.RandSeed, "systemuser", g.r.IntN(5))}
	},
	"primarycontact": func(g *genCtx, a *Attribute) any { return g.refTo("contact") },
	"parentcustomer": func(g *genCtx, a *Attribute) any {
		if g.r.IntN(10) == 0 {
			return g.refTo("contact")
		}
		return g.refTo("account")
	},
}

func init() {
	more := map[string]func(g *genCtx, a *Attribute) any{
		"currency": func(g *genCtx, a *Attribute) any {
			return []string{"US Dollar", "Euro", "Japanese Yen", "Swiss Franc"}[g.i%4]
		},
		"iso":  func(g *genCtx, a *Attribute) any { return []string{"USD", "EUR", "JPY", "CHF"}[g.i%4] },
		"rate": func(g *genCtx, a *Attribute) any { return decimalText(int64(5000+g.r.IntN(20000)), 4, a.Precision) },
		"currency-ref": func(g *genCtx, a *Attribute) any {
			// Mostly the base currency (row 0), as in most orgs.
			t := g.e.tables["transactioncurrency"]
			if t == nil || t.n == 0 {
				return nil
			}
			k := 0
			if g.r.IntN(5) == 0 {
				k = g.r.IntN(t.n)
			}
			return Ref{Entity: "transactioncurrency", ID: baseID(g.e.opts.RandSeed, "transactioncurrency", k)}
		},
		"probability": func(g *genCtx, a *Attribute) any { return int64(g.r.IntN(101)) },
		"false":       func(g *genCtx, a *Attribute) any { return false },
		"pickentity":  func(g *genCtx, a *Attribute) any { return pick(g.r, []string{"account", "contact", "lead"}) },
		"imageid": func(g *genCtx, a *Attribute) any {
			return baseID(g.e.opts.RandSeed, g.ent.LogicalName+"/image", g.i)
		},
		"imagets": func(g *genCtx, a *Attribute) any {
			if g.val("entityimageid") == nil {
				return nil
			}
			return 638000000000000000 + g.r.Int64N(1e15)
		},
		"imageurl": func(g *genCtx, a *Attribute) any {
			id, _ := g.val("entityimageid").(string)
			if id == "" {
				return nil
			}
			ts, _ := g.val("entityimage_timestamp").(int64)
			return fmt.Sprintf("/Image/download.aspx?Entity=%s&Attribute=entityimage&Id=%s&Timestamp=%d", g.ent.LogicalName, baseID(g.e.opts.RandSeed, g.ent.LogicalName, g.i), ts)
		},
		"partyactivity": func(g *genCtx, a *Attribute) any {
			ref, _ := g.refTo(pick(g.r, partyActivities)).(Ref)
			if ref.ID == "" {
				return nil
			}
			return Ref{Entity: "activitypointer", ID: ref.ID}
		},
		"party": func(g *genCtx, a *Attribute) any {
			return g.refTo(pick(g.r, []string{"account", "contact", "contact", "systemuser"}))
		},
		// The mask is a role the row's activity has a PartyList column
		// for, not any of the option set's 13 values.
		"partymask": func(g *genCtx, a *Attribute) any {
			ref, _ := g.val("activityid").(Ref)
			ent := g.e.activityOf(ref.ID)
			if ent == nil {
				return nil
			}
			var masks []int64
			for _, pa := range ent.Attributes {
				if m, ok := partyRoles[pa.LogicalName]; ok && pa.Type == PartyList {
					masks = append(masks, m)
				}
			}
			if len(masks) == 0 {
				return nil
			}
			return pick(g.r, masks)
		},
		"partytype": func(g *genCtx, a *Attribute) any {
			if ref, ok := g.val("partyid").(Ref); ok {
				return ref.Entity
			}
			return nil
		},
	}
	for k, v := range more {
		generators[k] = v
	}
}

func (g *genCtx) refTo(entity string) any {
	t := g.e.tables[entity]
	if t == nil || t.n == 0 {
		return nil
	}
	return Ref{Entity: entity, ID: baseID(g.e.opts.RandSeed, entity, g.r.IntN(t.n))}
}

// partyActivities are the activities generated activityparty rows belong to.
var partyActivities = []string{"email", "phonecall", "appointment"}

// partyRoles is the participationtypemask of each PartyList column, as
// documented for activityparty.
var partyRoles = map[string]int64{"from": 1, "to": 2, "cc": 3, "bcc": 4, "requiredattendees": 5, "optionalattendees": 6, "organizer": 7}

// activityOf finds which partyActivities entity has the generated row id:
// activityparty references it as activitypointer, which loses the type.
func (e *Emulator) activityOf(id string) *Entity {
	for _, name := range partyActivities {
		t := e.tables[name]
		if t == nil {
			continue
		}
		if i, ok := baseIndex(e.opts.RandSeed, name, id); ok && i >= 0 && i < t.n && baseID(e.opts.RandSeed, name, i) == id {
			return t.genDef
		}
	}
	return nil
}
