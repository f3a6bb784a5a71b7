package webui

import (
	"regexp"
	"strings"
	"testing"
)

var (
	absURL  = regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'"]*`)
	htmlRef = regexp.MustCompile(`(?:src|href)="([^"#][^"]*)"`)
)

// The UI names no file of another server (the SVG namespace is a name, not
// a fetch), and every file index.html loads is embedded.
func TestAssetsAreLocal(t *testing.T) {
	if len(Names()) < 4 {
		t.Fatalf("assets %v", Names())
	}
	for _, n := range Names() {
		a, _ := Lookup(n)
		for _, m := range absURL.FindAllString(string(a.Body), -1) {
			if strings.HasPrefix(m, "http://www.w3.org/2000/svg") {
				continue
			}
			t.Errorf("%s names %s: the UI must load nothing from elsewhere", n, m)
		}
		if a.ContentType == "" || a.ETag == "" {
			t.Errorf("%s: content type %q, ETag %q", n, a.ContentType, a.ETag)
		}
	}
	idx, ok := Lookup("")
	if !ok {
		t.Fatal("no index.html")
	}
	refs := htmlRef.FindAllStringSubmatch(string(idx.Body), -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references %v", refs)
	}
	for _, r := range refs {
		if _, ok := Lookup(r[1]); !ok {
			t.Errorf("index.html loads %s, which is not embedded", r[1])
		}
	}
	if _, ok := Lookup("../webui.go"); ok {
		t.Error("a path outside the UI's files resolved")
	}
}
