package dvemu

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// prefer holds the OData preferences of a request. Preferences may come in
// one comma-separated Prefer header or in several.
type prefer struct {
	trackChanges bool
	maxPageSize  int    // 0 = not given
	annotations  string // odata.include-annotations value, unquoted
	// returnRepresentation: Prefer: return=representation on a write.
	returnRepresentation bool
}

func parsePrefer(h http.Header) prefer {
	var p prefer
	for _, line := range h.Values("Prefer") {
		for _, item := range splitOutsideQuotes(line, ',') {
			k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch k {
			case "odata.track-changes":
				p.trackChanges = true
			case "odata.maxpagesize":
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					p.maxPageSize = n
				}
			case "odata.include-annotations":
				p.annotations = v
			case "return":
				p.returnRepresentation = strings.EqualFold(v, "representation")
			}
		}
	}
	return p
}

// wantsAnnotation reports whether the include-annotations preference asks
// for name (e.g. "Microsoft.Dynamics.CRM.lookuplogicalname"): "*", the name
// itself, or a namespace wildcard like "Microsoft.Dynamics.CRM.*".
func (p prefer) wantsAnnotation(name string) bool {
	for _, a := range strings.Split(p.annotations, ",") {
		a = strings.TrimSpace(a)
		if a == "*" || a == name {
			return true
		}
		if ns, ok := strings.CutSuffix(a, "*"); ok && ns != "" && strings.HasPrefix(name, ns) {
			return true
		}
	}
	return false
}

func (p prefer) pageSize() int {
	if p.maxPageSize <= 0 || p.maxPageSize > MaxPageSize {
		return MaxPageSize
	}
	return p.maxPageSize
}

// splitOutsideQuotes splits s on sep, ignoring separators inside double
// quotes and parentheses (for $expand=A($select=x,y),B).
func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// expandItem is one $expand entry: Name($select=..;$filter=..).
type expandItem struct {
	name    string
	options map[string]string // "$select" -> "a,b"
}

func parseExpand(s string) []expandItem {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []expandItem
	for _, part := range splitOutsideQuotes(s, ',') {
		part = strings.TrimSpace(part)
		it := expandItem{name: part, options: map[string]string{}}
		if i := strings.IndexByte(part, '('); i >= 0 && strings.HasSuffix(part, ")") {
			it.name = part[:i]
			for _, opt := range splitOutsideQuotes(part[i+1:len(part)-1], ';') {
				k, v, _ := strings.Cut(opt, "=")
				it.options[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		out = append(out, it)
	}
	return out
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// escapeLower percent-encodes everything but unreserved characters, with
// lowercase hex like the documented delta links ("%21", "%2f", "%3a").
func escapeLower(s string, keep string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// query is a parsed query string. url.ParseQuery is not used: it rejects
// ';', which OData uses inside $expand options.
type query map[string]string

func odataQuery(raw string) query {
	q := query{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		if _, dup := q[k]; !dup {
			q[k] = v
		}
	}
	return q
}

func (q query) Get(k string) string { return q[k] }

func (q query) Has(k string) bool {
	_, ok := q[k]
	return ok
}
