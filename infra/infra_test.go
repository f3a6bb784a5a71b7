// Package infra has no Go code; this test is the offline check of the Bicep
// files that is possible without the Bicep CLI (see README.md).
package infra

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var (
	paramDecl = regexp.MustCompile(`(?m)^param (\w+) (\w+)( = .*)?$`)
	paramSet  = regexp.MustCompile(`(?m)^param (\w+) = `)
	roleGUID  = regexp.MustCompile(`(?m)^  \w+: '([^']+)'$`)
	guidRe    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParamFileMatchesTemplate(t *testing.T) {
	bicep, params := read(t, "main.bicep"), read(t, "main.bicepparam")
	if !strings.HasPrefix(params, "using './main.bicep'") {
		t.Fatal("main.bicepparam does not start with using './main.bicep'")
	}
	declared := map[string]bool{}
	for _, m := range paramDecl.FindAllStringSubmatch(bicep, -1) {
		declared[m[1]] = m[3] != ""
	}
	if len(declared) == 0 {
		t.Fatal("no params found in main.bicep")
	}
	set := map[string]bool{}
	for _, m := range paramSet.FindAllStringSubmatch(params, -1) {
		if _, ok := declared[m[1]]; !ok {
			t.Errorf("main.bicepparam sets %q, which main.bicep does not declare", m[1])
		}
		set[m[1]] = true
	}
	for name, hasDefault := range declared {
		if !hasDefault && !set[name] {
			t.Errorf("param %q has no default and is not set in main.bicepparam", name)
		}
	}
}

func TestRoleIDsAreGUIDs(t *testing.T) {
	bicep := read(t, "main.bicep")
	start := strings.Index(bicep, "var roles = {")
	end := strings.Index(bicep[start:], "\n}\n")
	if start < 0 || end < 0 {
		t.Fatal("var roles block not found")
	}
	ids := roleGUID.FindAllStringSubmatch(bicep[start:start+end], -1)
	if len(ids) < 6 {
		t.Fatalf("found %d role ids", len(ids))
	}
	for _, m := range ids {
		if !guidRe.MatchString(m[1]) {
			t.Errorf("role id %q is not a GUID", m[1])
		}
	}
}

func TestBracesBalance(t *testing.T) {
	// A cheap guard against a lost brace or bracket while editing by hand;
	// quotes are skipped so braces inside strings do not count.
	bicep := read(t, "main.bicep")
	depth := map[rune]int{}
	inString := false
	for i, line := range strings.Split(bicep, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "//") {
			continue
		}
		for _, r := range line {
			switch {
			case r == '\'':
				inString = !inString
			case inString:
			case r == '{', r == '[', r == '(':
				depth[r]++
			case r == '}':
				depth['{']--
			case r == ']':
				depth['[']--
			case r == ')':
				depth['(']--
			}
		}
		if inString {
			t.Fatalf("line %d: unterminated string", i+1)
		}
		for r, d := range depth {
			if d < 0 {
				t.Fatalf("line %d: unbalanced %q", i+1, r)
			}
		}
	}
	for r, d := range depth {
		if d != 0 {
			t.Errorf("%q left open %d times", r, d)
		}
	}
}
