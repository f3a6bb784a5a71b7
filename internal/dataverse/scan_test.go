package dataverse

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scanBoth decodes body with the page scanner and with jsontext, each with
// a fresh decoder of e's plan.
func scanBoth(e *Entity, body []byte) (fast ChangesPage, fastEnv pageBody, taken bool, slow ChangesPage, slowEnv pageBody, slowErr error) {
	plan := newRowPlan(e, Fields(e))
	fastEnv, taken = newPageDecoder(plan).scanPage(body, &fast)
	slowEnv, slowErr = newPageDecoder(plan).decodeStream(bytes.NewReader(body), 1, &slow)
	return
}

// checkAgree fails when the scanner took a body jsontext rejects, or
// decoded it differently.
func checkAgree(t *testing.T, e *Entity, body []byte) (taken bool) {
	t.Helper()
	fast, fastEnv, taken, slow, slowEnv, slowErr := scanBoth(e, body)
	if !taken {
		return false
	}
	if slowErr != nil {
		t.Fatalf("the scanner took a body jsontext rejects (%v):\n%q", slowErr, body)
	}
	if fastEnv != slowEnv {
		t.Fatalf("envelope: scanner %+v, jsontext %+v\n%q", fastEnv, slowEnv, body)
	}
	fast.Columns, slow.Columns = nil, nil
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("page: scanner %+v\njsontext %+v\n%q", fast, slow, body)
	}
	return true
}

func scanSeeds(t testing.TB) [][]byte {
	e := benchEntity()
	seeds := [][]byte{
		benchPage(e, 3),
		benchPageStyled(withHelpers(e), 3, styleFormatted),
		benchPageStyled(e, 3, styleLookupTypes),
	}
	files, err := filepath.Glob("testdata/pages/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata pages: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// TestScanAgreesWithJSONText: the scanner takes the shapes Dataverse
// sends and decodes them as jsontext does; anything unusual it leaves to
// jsontext, which decides (and names the error).
func TestScanAgreesWithJSONText(t *testing.T) {
	e := withHelpers(benchEntity())
	for _, seed := range scanSeeds(t) {
		if !checkAgree(t, e, seed) && !bytes.Contains(seed, []byte(`"error"`)) {
			t.Errorf("the scanner did not take a page in Dataverse's shape:\n%.300s", seed)
		}
	}
	const id = `"accountid":"c4f5a586-c3ad-4605-c0dc-8798cae97950","versionnumber":7`
	page := func(row string) string { return `{"value":[{` + id + row + `}]}` }
	for _, tc := range []struct {
		name, body string
		taken      bool
	}{
		{"plain", page(``), true},
		{"whitespace everywhere", " {\n\t\"value\" : [ {\r\n \"accountid\" : \"c4f5a586-c3ad-4605-c0dc-8798cae97950\" , \"versionnumber\" : 7 } ] } \n", true},
		{"escapes in a value", page(`,"string0":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"`), true},
		{"unpaired surrogate", page(`,"string0":"x\ud83dy"`), true},
		{"invalid UTF-8 in a value", page(",\"string0\":\"a\xffb\""), true},
		{"numbers", page(`,"int0":-0,"address1_latitude":1.5e-3,"exchangerate":12.50,"money0":2E+2,"address1_longitude":-0.0`), true},
		{"unknown members of every scalar kind", page(`,"x":true,"y":false,"z":null,"w":-12.5e3,"v":"s"`), true},
		{"empty value array", `{"value":[]}`, true},
		{"a deleted entry", `{"value":[{"@odata.context":"x/$deletedEntity","id":"c4f5a586-c3ad-4605-c0dc-8798cae97950","reason":"deleted"}]}`, true},
		{"duplicate member", page(`,"string0":"a","string0":"b"`), true},
		{"escaped member name", page(`,"string\u0030":"a"`), false},
		{"nested object value", page(`,"x":{"a":1}`), false},
		{"nested array value", page(`,"x":[1]`), false},
		{"nested envelope member", `{"@odata.count":{"a":1},"value":[]}`, false},
		{"control character in a string", page(",\"string0\":\"a\nb\""), false},
		{"bad escape", page(`,"string0":"a\xb"`), false},
		{"short unicode escape", page(`,"string0":"a\u12"`), false},
		{"leading zero", page(`,"int0":012`), false},
		{"bare minus", page(`,"int0":-`), false},
		{"fraction without digits", page(`,"address1_latitude":1.`), false},
		{"exponent without digits", page(`,"address1_latitude":1e+`), false},
		{"misspelt literal", page(`,"x":nul`), false},
		{"literal run on", page(`,"x":truex`), false},
		{"trailing comma in row", page(`,`), false},
		{"trailing comma in array", `{"value":[{` + id + `},]}`, false},
		{"missing colon", page(`,"x" 1`), false},
		{"trailing bytes", page(``) + `x`, false},
		{"truncated", page(``)[:40], false},
		{"no value array", `{"@odata.context":"x"}`, false},
		{"empty object", `{}`, false},
		{"row is not an object", `{"value":[1]}`, false},
		{"wrong type for a column", page(`,"int0":"seven"`), false},
		{"row without id", `{"value":[{"versionnumber":7}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if taken := checkAgree(t, e, []byte(tc.body)); taken != tc.taken {
				t.Fatalf("scanner took it: %v, want %v", taken, tc.taken)
			}
			// Whatever the scanner says, decode answers as jsontext does.
			var got, want ChangesPage
			plan := newRowPlan(e, Fields(e))
			_, err := newPageDecoder(plan).decode(strings.NewReader(tc.body), 1, &got)
			_, wantErr := newPageDecoder(plan).decodeStream(strings.NewReader(tc.body), 1, &want)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("decode error %v, jsontext's %v", err, wantErr)
			}
			got.Columns, want.Columns = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decode %+v, jsontext %+v", got, want)
			}
		})
	}
}

// TestScanFallbackStartsClean: a page the scanner gives up on late (its
// last row) is decoded from the start by jsontext, into a page that holds
// none of the scanner's partial work.
func TestScanFallbackStartsClean(t *testing.T) {
	e := benchEntity()
	good := string(benchPage(e, 3))
	body := strings.Replace(good, `],"@odata.deltaLink"`, `,{"accountid":"c4f5a586-c3ad-4605-c0dc-8798cae97950","versionnumber":1,"x":{"nested":true}}],"@odata.deltaLink"`, 1)
	if body == good {
		t.Fatal("the bench page does not end as expected")
	}
	var page ChangesPage
	if _, err := newPageDecoder(newRowPlan(e, Fields(e))).decode(strings.NewReader(body), 1, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Upserts) != 4 {
		t.Fatalf("%d upserts, want 4 (3 rows, then one with a nested member)", len(page.Upserts))
	}
}

// FuzzScanPage: for any body, the scanner either leaves it to jsontext or
// decodes it exactly as jsontext does.
func FuzzScanPage(f *testing.F) {
	for _, s := range scanSeeds(f) {
		f.Add(s)
	}
	e := withHelpers(benchEntity())
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgree(t, e, body)
	})
}
