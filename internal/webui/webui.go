// Package webui holds the web UI's files, embedded in the binary: one page
// (index.html), its script and style sheet, no framework and no file from
// anywhere else. Every action the UI offers is a call to the management
// API (/api/...); it keeps no state and no rule of its own.
package webui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed static
var files embed.FS

// Asset is one file of the UI.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	// ETag is a digest of the body (strong, quoted).
	ETag string
}

var assets = func() map[string]Asset {
	out := map[string]Asset{}
	_ = fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ct := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		sum := sha256.Sum256(b)
		out[name] = Asset{Name: name, ContentType: ct, Body: b, ETag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out
}()

// Lookup returns the asset at a path under the UI's root ("" and "/" are
// index.html).
func Lookup(p string) (Asset, bool) {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		p = "index.html"
	}
	a, ok := assets[p]
	return a, ok
}

// Names lists every asset.
func Names() []string {
	out := make([]string, 0, len(assets))
	for n := range assets {
		out = append(out, n)
	}
	return out
}

// ContentSecurityPolicy allows the page nothing but its own server: no
// inline script or style, no other origin, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
