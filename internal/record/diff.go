package record

import (
	"fmt"
	"sort"
	"strings"
)

// Diff compares two sets of records by id: versions and every value. It
// returns "" when they are equal, else a short description of the first
// differences (at most a dozen lines).
func Diff(want, got []Record) string {
	byID := func(rs []Record) map[string]*Record {
		m := make(map[string]*Record, len(rs))
		for i := range rs {
			m[rs[i].ID] = &rs[i]
		}
		return m
	}
	w, g := byID(want), byID(got)
	ids := make([]string, 0, len(w)+len(g))
	for id := range w {
		ids = append(ids, id)
	}
	for id := range g {
		if _, ok := w[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	for _, id := range ids {
		if len(out) >= 12 {
			add("...")
			break
		}
		a, b := w[id], g[id]
		switch {
		case b == nil:
			add("%s: missing", id)
		case a == nil:
			add("%s: unexpected (version %d)", id, b.Version)
		case a.Version != b.Version:
			add("%s: version %d, want %d", id, b.Version, a.Version)
		case len(a.Values) != len(b.Values):
			add("%s: %d values, want %d", id, len(b.Values), len(a.Values))
		default:
			for i := range a.Values {
				if !a.Values[i].Equal(b.Values[i]) {
					add("%s: value %d is %s (%v), want %s (%v)", id, i, b.Values[i], b.Values[i].Kind, a.Values[i], a.Values[i].Kind)
				}
			}
		}
	}
	return strings.Join(out, "\n")
}
