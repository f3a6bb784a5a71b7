package sync

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/record"
)

func sampleMessage() Message {
	cols := []record.Column{
		{Name: "accountid", Kind: record.GUID},
		{Name: "name", Kind: record.String},
		{Name: "revenue", Kind: record.Decimal},
		{Name: "numberofemployees", Kind: record.Int},
		{Name: "creditonhold", Kind: record.Bool},
		{Name: "createdon", Kind: record.DateTime},
		{Name: "birthdate", Kind: record.Date},
		{Name: "ratio", Kind: record.Float},
	}
	id := "60c4e274-0d87-e711-80e5-00155db19e6d"
	return Message{
		ID: "p/account/3.0", Profile: "p", Entity: "account", Kind: KindDelta, Page: 3,
		Batch: record.Batch{
			Entity:  "account",
			Columns: cols,
			Upserts: []record.Record{{ID: id, Version: 915244, Values: []record.Value{
				record.GUIDValue(id), record.StringValue("Monte \"Orton\" \u00e9\n"), record.DecimalValue("12345678901234567890.1234"),
				record.IntValue(-42), record.BoolValue(true), record.DateTimeValue(time.Date(2023, 4, 7, 21, 59, 1, 0, time.UTC)),
				record.DateValue(time.Date(1815, 12, 10, 0, 0, 0, 0, time.UTC)), record.FloatValue(0.1),
			}}, {ID: "2e451703-c686-e711-80e5-00155db19e6d", Version: 915245, Values: make([]record.Value, len(cols))}},
			Deletes: []record.Delete{{ID: "2e451703-c686-e711-80e5-00155db19e6e", Version: 915300}},
		},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	m := sampleMessage()
	got, err := DecodeMessage(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != m.ID || got.Profile != m.Profile || got.Entity != m.Entity || got.Kind != m.Kind || got.Page != m.Page {
		t.Fatalf("envelope: got %+v", got)
	}
	if len(got.Batch.Columns) != len(m.Batch.Columns) {
		t.Fatalf("columns: got %v", got.Batch.Columns)
	}
	for i, c := range m.Batch.Columns {
		if got.Batch.Columns[i] != c {
			t.Errorf("column %d: got %v, want %v", i, got.Batch.Columns[i], c)
		}
	}
	if d := record.Diff(m.Batch.Upserts, got.Batch.Upserts); d != "" {
		t.Errorf("upserts differ:\n%s", d)
	}
	if len(got.Batch.Deletes) != 1 || got.Batch.Deletes[0] != m.Batch.Deletes[0] {
		t.Errorf("deletes: got %v", got.Batch.Deletes)
	}
	if got.Batch.Entity != "account" {
		t.Errorf("batch entity %q", got.Batch.Entity)
	}
	if got.Schema != "" || got.Batch.Overwrite {
		t.Errorf("schema %q, overwrite %v; want neither", got.Schema, got.Batch.Overwrite)
	}
}

// A backfill message carries its schema fingerprint and decodes into a
// batch that overwrites rows of the same version; other kinds never do.
func TestBackfillMessage(t *testing.T) {
	m := sampleMessage()
	m.Kind, m.Batch.Deletes, m.Schema = KindBackfill, nil, "1764700000123.0123456789abcdef"
	body := m.Encode()
	if !strings.Contains(string(body), `"schema":"1764700000123.0123456789abcdef"`) {
		t.Fatalf("encoded without its schema: %s", body)
	}
	got, err := DecodeMessage(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindBackfill || !got.Batch.Overwrite || got.Schema != m.Schema || len(got.Batch.Upserts) != 2 {
		t.Fatalf("decoded %s overwrite=%v schema %q, %d upserts", got.Kind, got.Batch.Overwrite, got.Schema, len(got.Batch.Upserts))
	}
	if env := got.envelope(); env.Schema != m.Schema || env.Kind != KindBackfill {
		t.Errorf("envelope lost the schema or kind: %+v", env)
	}
	f, err := ParseFingerprint(got.Schema)
	if err != nil || f.Generation != 1764700000123 || f.Hash != "0123456789abcdef" || f.String() != m.Schema {
		t.Errorf("ParseFingerprint = %+v, %v", f, err)
	}
}

func TestDecodeMessageRejects(t *testing.T) {
	sm := sampleMessage()
	valid := string(sm.Encode())
	tests := []struct {
		name, body, want string
	}{
		{"not json", `hello`, "invalid JSON"},
		{"truncated", valid[:len(valid)/2], "invalid JSON"},
		{"empty", ``, "invalid JSON"},
		{"array", `[1,2]`, "expected {"},
		{"version", strings.Replace(valid, `"v":1`, `"v":2`, 1), "unsupported message version 2"},
		{"no version", strings.Replace(valid, `"v":1,`, ``, 1), `message has no version field "v"`},
		{"version 0", strings.Replace(valid, `"v":1`, `"v":0`, 1), "unsupported message version 0"},
		{"no profile", strings.Replace(valid, `"profile":"p"`, `"profile":""`, 1), `message has no "profile"`},
		{"no entity", strings.Replace(valid, `,"entity":"account"`, ``, 1), `message has no "entity"`},
		{"no kind", strings.Replace(valid, `,"kind":"delta"`, ``, 1), `message has no "kind"`},
		{"kind", strings.Replace(valid, `"kind":"delta"`, `"kind":"weird"`, 1), `unknown kind "weird"`},
		{"bad column kind", strings.Replace(valid, `["name","string"]`, `["name","text"]`, 1), `column "name" has unknown kind "text"`},
		{"repeated column", strings.Replace(valid, `["name","string"]`, `["accountid","string"]`, 1), `repeated`},
		{"wrong value type", strings.Replace(valid, `-42`, `"x"`, 1), `column "numberofemployees": expected a int value, found a JSON string`},
		{"too few values", strings.Replace(valid, `,0.1]`, `]`, 1), "has 7 values for 8 columns"},
		{"bad id", strings.Replace(valid, `"2e451703-c686-e711-80e5-00155db19e6e"`, `"DROP TABLE"`, 1), `deletes[0] id "DROP TABLE" is not a lowercase GUID`},
		{"bad guid value", strings.Replace(valid, `["60c4e274-0d87-e711-80e5-00155db19e6d","Monte`, `["x","Monte`, 1), `column "accountid"`},
		{"bad date", strings.Replace(valid, `"1815-12-10"`, `"1815-13-10"`, 1), `column "birthdate"`},
		{"schema not a fingerprint", strings.Replace(valid, `"kind":"delta"`, `"kind":"delta","schema":"12.xyz"`, 1), `schema fingerprint "12.xyz" is not <generation>.<hash>`},
		{"schema of no generation", strings.Replace(valid, `"kind":"delta"`, `"kind":"delta","schema":"0.0123456789abcdef"`, 1), `is not <generation>.<hash>`},
		{"backfill with deletes", strings.Replace(valid, `"kind":"delta"`, `"kind":"backfill"`, 1), `a "backfill" message carries deletes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeMessage([]byte(tt.body))
			if err == nil {
				t.Fatalf("want an error, got %+v", m)
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("want *MalformedError, got %T %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	base := sampleMessage()
	var ups []record.Record
	for i := 0; i < 500; i++ {
		r := base.Batch.Upserts[0]
		r.Version = int64(i)
		ups = append(ups, r)
	}
	dels := []record.Delete{{ID: "2e451703-c686-e711-80e5-00155db19e6e", Version: 9}}
	const limit = 8 << 10
	msgs, err := Split(base, ups, dels, limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 2 {
		t.Fatalf("want several messages, got %d", len(msgs))
	}
	var n, d int
	seen := map[string]bool{}
	for i, m := range msgs {
		body := m.Encode()
		if len(body) > limit {
			t.Errorf("message %d is %d bytes, over %d", i, len(body), limit)
		}
		if seen[m.ID] || m.Part != i {
			t.Errorf("message %d: id %q part %d", i, m.ID, m.Part)
		}
		seen[m.ID] = true
		back, err := DecodeMessage(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range back.Batch.Upserts {
			if r.Version != int64(n) {
				t.Fatalf("upsert order: got version %d at %d", r.Version, n)
			}
			n++
		}
		d += len(back.Batch.Deletes)
		if d > 0 && i < len(msgs)-1 {
			t.Errorf("deletes must come after every upsert")
		}
	}
	if n != len(ups) || d != 1 {
		t.Fatalf("got %d upserts and %d deletes back", n, d)
	}

	if msgs, err := Split(base, nil, nil, limit); err != nil || len(msgs) != 0 {
		t.Errorf("empty page: got %d messages, %v", len(msgs), err)
	}
	big := base.Batch.Upserts[0]
	big.Values = append([]record.Value(nil), big.Values...)
	big.Values[1] = record.StringValue(strings.Repeat("x", limit))
	// An oversized record travels alone (by claim check), between the
	// messages of its neighbours.
	small := base.Batch.Upserts[1]
	msgs, err = Split(base, []record.Record{small, big, small}, nil, limit)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("oversized record: got %d messages, %v; want 3", len(msgs), err)
	}
	if got := msgs[1].Batch.Upserts; len(got) != 1 || got[0].ID != big.ID {
		t.Errorf("oversized record: the middle message holds %d records, want it alone", len(got))
	}
}

// Attempt and Waits survive the round trip and are left out at zero (a
// poller's original carries neither).
func TestMessageAttemptAndWaits(t *testing.T) {
	m := sampleMessage()
	if b := string(m.Encode()); strings.Contains(b, `"attempt"`) || strings.Contains(b, `"waits"`) {
		t.Fatalf("zero attempt and waits encoded: %s", b)
	}
	m.Attempt, m.Waits = 2, 5
	got, err := DecodeMessage(m.Encode())
	if err != nil || got.Attempt != 2 || got.Waits != 5 {
		t.Fatalf("decoded %+v, %v; want attempt 2, waits 5", got, err)
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		"60c4e274-0d87-e711-80e5-00155db19e6d":  true,
		"60C4E274-0D87-E711-80E5-00155DB19E6D":  false, // the sink's ids are lowercase
		"-0c4e274-0d87-e711-80e5-00155db19e6d":  false,
		"60c4e274-0d87-e711-80e5-00155db19e6-":  false,
		"60c4e2740d87-e711-80e5-00155db19e6d0":  false,
		"60c4e274-0d87-e711-80e5-00155db19e6g":  false,
		"60c4e274-0d87-e711-80e5-00155db19e6":   false,
		"60c4e274-0d87-e711-80e5-00155db19e6d0": false,
		"":                                      false,
	} {
		if got := isGUID(s); got != want {
			t.Errorf("isGUID(%q) = %v, want %v", s, got, want)
		}
	}
}
