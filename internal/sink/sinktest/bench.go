package sinktest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// BenchAccount is an account with the 40-odd columns of a typical export
// (the replicated subset of a real account: names, address, contact data,
// money, option sets, lookups, dates), for benchmarks.
func BenchAccount() *dataverse.Entity {
	e := &dataverse.Entity{LogicalName: "account", PrimaryIDAttribute: "accountid"}
	s := func(name string, n int) {
		e.Attributes = append(e.Attributes, attr(name, dataverse.TypeString, maxLen(n)))
	}
	add := func(name string, t dataverse.AttributeType, mod ...func(*dataverse.Attribute)) {
		e.Attributes = append(e.Attributes, attr(name, t, mod...))
	}
	add("accountid", dataverse.TypeUniqueidentifier)
	s("name", 160)
	s("accountnumber", 20)
	s("emailaddress1", 100)
	s("telephone1", 50)
	s("fax", 50)
	s("websiteurl", 200)
	for _, p := range []string{"address1_", "address2_"} {
		s(p+"line1", 250)
		s(p+"city", 80)
		s(p+"postalcode", 20)
		s(p+"country", 80)
		add(p+"latitude", dataverse.TypeDouble, precision(5))
		add(p+"longitude", dataverse.TypeDouble, precision(5))
	}
	add("description", dataverse.TypeMemo)
	add("numberofemployees", dataverse.TypeInteger)
	add("revenue", dataverse.TypeMoney, precision(2))
	add("revenue_base", dataverse.TypeMoney, precision(4))
	add("creditlimit", dataverse.TypeMoney, precision(2))
	add("exchangerate", dataverse.TypeDecimal, precision(10))
	add("industrycode", dataverse.TypePicklist)
	add("customertypecode", dataverse.TypePicklist)
	add("statecode", dataverse.TypeState)
	add("statuscode", dataverse.TypeStatus)
	add("donotemail", dataverse.TypeBoolean)
	add("creditonhold", dataverse.TypeBoolean)
	add("createdon", dataverse.TypeDateTime)
	add("modifiedon", dataverse.TypeDateTime)
	add("lastusedincampaign", dataverse.TypeDateTime, dateOnly)
	add("ownerid", dataverse.TypeOwner, targets("systemuser", "team"))
	add("primarycontactid", dataverse.TypeLookup, targets("contact"))
	add("transactioncurrencyid", dataverse.TypeLookup, targets("transactioncurrency"))
	add("owningbusinessunit", dataverse.TypeLookup, targets("businessunit"))
	add("versionnumber", dataverse.TypeBigInt)
	return e
}

// BenchRows are n records from id number from on, at version v, with
// realistic widths and about one value in eight null.
func BenchRows(cols []record.Column, from, n int, v int64) []record.Record {
	out := make([]record.Record, n)
	t0 := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	for i := range out {
		k := from + i
		vals := make([]record.Value, len(cols))
		for j, c := range cols {
			if (k+j)%8 == 7 {
				continue // null
			}
			switch c.Kind {
			case record.String:
				switch c.Name {
				case "description":
					vals[j] = record.StringValue(longText(k, 300))
				case "ownerid_entitytype":
					vals[j] = record.StringValue("systemuser")
				case "name", "emailaddress1", "websiteurl", "address1_line1", "address2_line1":
					vals[j] = record.StringValue(fmt.Sprintf("%s %d Contoso Pharmaceuticals Ltd", c.Name, k))
				default: // codes, phones, cities: short, within the narrowest (20)
					vals[j] = record.StringValue(fmt.Sprintf("%.20s", fmt.Sprintf("%d %s", k, c.Name)))
				}
			case record.Int:
				vals[j] = record.IntValue(int64(k%1000 + j))
			case record.Decimal:
				vals[j] = record.DecimalValue(fmt.Sprintf("%d.%02d", k*13%1000000, k%100))
			case record.Bool:
				vals[j] = record.BoolValue(k%2 == 0)
			case record.DateTime:
				vals[j] = record.DateTimeValue(t0.Add(time.Duration(k) * time.Minute))
			case record.Date:
				vals[j] = record.DateValue(t0.AddDate(0, 0, k%365))
			case record.GUID:
				vals[j] = record.GUIDValue(guid(k*41 + j))
			}
		}
		vals[0] = record.GUIDValue(guid(k))
		out[i] = record.Record{ID: guid(k), Version: v, Values: vals}
	}
	return out
}

// Refuser is a destination that can be made to refuse rows, as a CHECK
// constraint does (Target.Refuse).
type Refuser interface {
	sink.BatchApplier
	Refuse(ctx context.Context, table schema.TableName, column string, value int64) error
}

// BenchBadRecord measures, in the same iterations, Apply of a clean batch
// of n BenchRows and of the same batch with one record the destination
// refuses (a CHECK constraint on numberofemployees) at position pos, each
// into an empty table (reset empties it, untimed), and reports the time
// of each and their ratio (target: at most 3); ns/op is the bad batch's.
func BenchBadRecord(b *testing.B, s Refuser, table schema.TableName, cols []record.Column, n, pos int, reset func()) {
	ctx := b.Context()
	const refused = -7
	if err := s.Refuse(ctx, table, "numberofemployees", refused); err != nil {
		b.Fatal(err)
	}
	emp := slices.IndexFunc(cols, func(c record.Column) bool { return c.Name == "numberofemployees" })
	if emp < 0 {
		b.Fatal("no column numberofemployees")
	}
	clean := BenchRows(cols, 0, n, 1)
	bad := slices.Clone(clean)
	bad[pos].Values = slices.Clone(bad[pos].Values)
	bad[pos].Values[emp] = record.IntValue(refused)
	var cleanTime, badTime time.Duration
	apply := func(rows []record.Record, wantRejected int) time.Duration {
		reset()
		start := time.Now()
		if wantRejected > 0 {
			b.StartTimer()
		}
		res, err := s.Apply(ctx, table, record.Batch{Entity: "account", Columns: cols, Upserts: rows})
		b.StopTimer()
		d := time.Since(start)
		if err != nil || len(res.Rejected) != wantRejected || res.Upserted != n-wantRejected {
			b.Fatalf("Apply = %+v, %v; want %d written, %d rejected", res.Counts(), err, n-wantRejected, wantRejected)
		}
		return d
	}
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		cleanTime += apply(clean, 0)
		badTime += apply(bad, 1)
	}
	b.ReportMetric(cleanTime.Seconds()*1000/float64(b.N), "clean_ms/op")
	b.ReportMetric(badTime.Seconds()*1000/float64(b.N), "bad_ms/op")
	b.ReportMetric(badTime.Seconds()/cleanTime.Seconds(), "bad/clean")
}

// Sweeping is a destination a full read ends with a sweep on.
type Sweeping interface {
	sink.BatchApplier
	sink.Sweeper
}

// BenchSweep measures what a sweep adds to a full read over a table of n
// BenchRows, gone of which the source no longer has: in the same
// iterations, the read's own writes (the other n-gone rows at a newer
// version, in batches of 5,000, as the applier gets them) and the sweep
// (their keys staged in pages of 5,000, then Sweep, which removes the
// gone rows). reset (untimed) empties the table, its tombstones and the
// staged keys; the table is then filled at version 1, untimed. It reports
// both times and their ratio sweep/read; ns/op is the sweep's.
func BenchSweep(b *testing.B, s Sweeping, table schema.TableName, cols []record.Column, n, gone int, reset func()) {
	ctx := b.Context()
	const page = 5000
	old := BenchRows(cols, 0, n, 1)
	kept := BenchRows(cols, gone, n, 2) // rows 0..gone-1 are gone from the source
	ids := make([]string, len(kept))
	for i, r := range kept {
		ids[i] = r.ID
	}
	var readTime, sweepTime time.Duration
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		reset()
		for start := 0; start < n; start += page {
			if _, err := s.Apply(ctx, table, record.Batch{Entity: "account", Columns: cols, Upserts: old[start:min(start+page, n)]}); err != nil {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		for start := 0; start < len(kept); start += page {
			res, err := s.Apply(ctx, table, record.Batch{Entity: "account", Columns: cols, Upserts: kept[start:min(start+page, len(kept))]})
			if err != nil || len(res.Rejected) > 0 {
				b.Fatalf("Apply = %+v, %v", res.Counts(), err)
			}
		}
		readTime += time.Since(t0)
		scan := fmt.Sprintf("bench%04d", i)
		b.StartTimer()
		t1 := time.Now()
		staged := 0
		for start := 0; start < len(ids); start += page {
			k, err := s.StageKeys(ctx, table, scan, ids[start:min(start+page, len(ids))])
			if err != nil {
				b.Fatal(err)
			}
			staged += k
		}
		removed, err := s.Sweep(ctx, table, sink.SweepSpec{Entity: "account", Scan: scan, Staged: int64(staged), Version: 2})
		sweepTime += time.Since(t1)
		b.StopTimer()
		if err != nil || removed != gone || staged != len(ids) {
			b.Fatalf("Sweep = %d, %v (staged %d); want %d removed", removed, err, staged, gone)
		}
	}
	b.ReportMetric(readTime.Seconds()*1000/float64(b.N), "read_ms/op")
	b.ReportMetric(sweepTime.Seconds()*1000/float64(b.N), "sweep_ms/op")
	b.ReportMetric(sweepTime.Seconds()/readTime.Seconds(), "sweep/read")
}
