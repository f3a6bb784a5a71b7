package dvemu

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Base rows are never stored: row i of an entity is a pure function of
// (RandSeed, entity, i), so memory stays proportional to changes, not to
// Options.Records.

// genEpoch anchors generated dates, so the data does not depend on the clock.
var genEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func mix(x uint64) uint64 { // splitmix64 finalizer
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// baseID is the id of generated row i. The first group is an
// entity-specific offset plus i, in hex, so ids sort in index order: paging
// by "id > last" then needs no index of ids.
func baseID(seed int64, entity string, i int) string {
	h := mix(hash64(entity) ^ uint64(seed) ^ mix(uint64(i)+1))
	g := mix(h)
	// Same as fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", ...), without fmt:
	// ids are made for every generated row served.
	var b [36]byte
	putHex(b[0:8], uint64(idOffset(seed, entity)+uint32(i)))
	b[8] = '-'
	putHex(b[9:13], uint64(uint16(h)))
	b[13], b[14] = '-', '4'
	putHex(b[15:18], (h>>16)&0xfff)
	b[18] = '-'
	putHex(b[19:23], 0x8000|((h>>28)&0x3fff))
	b[23] = '-'
	putHex(b[24:36], g&0xffffffffffff)
	return string(b[:])
}

func putHex(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[v&15]
		v >>= 4
	}
}

// idOffset keeps first groups from all starting at 00000000; it is below
// 2^31 so offset+i cannot wrap for any supported Records.
func idOffset(seed int64, entity string) uint32 {
	return uint32(mix(hash64(entity)^uint64(seed))) >> 1
}

// baseIndex returns the row index an id's first group encodes for entity,
// or -1 when the id sorts before every generated row.
func baseIndex(seed int64, entity, id string) (int, bool) {
	if len(id) != 36 {
		return 0, false
	}
	n, err := strconv.ParseUint(id[:8], 16, 32)
	if err != nil {
		return 0, false
	}
	return int(int64(n) - int64(idOffset(seed, entity))), true
}

func rowRand(seed int64, entity string, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)^hash64(entity), mix(uint64(i)+0x9e3779b97f4a7c15)))
}

// genCtx is what a generator sees: the row so far and the org sizes.
type genCtx struct {
	e    *Emulator
	ent  *Entity
	r    *rand.Rand
	i    int
	vals []any
}

func (g *genCtx) val(name string) any {
	if idx, _ := g.ent.attr(name); idx >= 0 {
		return g.vals[idx]
	}
	return nil
}

// byType generates a plausible value for attributes without a Gen hint.
func byType(g *genCtx, a *Attribute) any {
	switch a.Type {
	case String, Memo:
		s := pick(g.r, words) + " " + pick(g.r, words)
		if a.MaxLength > 0 && len(s) > a.MaxLength {
			s = s[:a.MaxLength]
		}
		return s
	case Integer:
		return int64(g.r.IntN(1000))
	case BigInt:
		return g.r.Int64N(1 << 40)
	case Decimal, Money, Double:
		return decimalText(int64(g.r.IntN(10_000_000)), 2, a.Precision)
	case DateTime:
		t := genEpoch.Add(-time.Duration(g.r.Int64N(365*24*3600)) * time.Second)
		if a.DateTimeBehavior == "DateOnly" {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return t
	case Boolean:
		return g.r.IntN(4) == 0
	case Picklist, State, Status:
		if a.OptionSet == nil || len(a.OptionSet.Options) == 0 {
			return nil
		}
		return int64(pick(g.r, a.OptionSet.Options).Value)
	case MultiSelectPicklist:
		if a.OptionSet == nil || len(a.OptionSet.Options) == 0 {
			return nil
		}
		var vs []string
		for _, o := range a.OptionSet.Options {
			if g.r.IntN(3) == 0 {
				vs = append(vs, strconv.Itoa(o.Value))
			}
		}
		if len(vs) == 0 {
			return nil
		}
		return strings.Join(vs, ",")
	case Uniqueidentifier:
		return baseID(g.e.opts.RandSeed, g.ent.LogicalName+"/"+a.LogicalName, g.r.IntN(1<<30))
	case Lookup, Customer, Owner:
		if len(a.Targets) == 0 {
			return nil
		}
		return g.refTo(pick(g.r, a.Targets))
	case EntityName:
		return g.ent.LogicalName
	}
	return nil
}

// generate builds base row i of table t.
func (e *Emulator) generate(t *table, i int) []any {
	ent := t.genDef
	g := &genCtx{e: e, ent: ent, r: rowRand(e.opts.RandSeed, ent.LogicalName, i), i: i, vals: make([]any, len(t.def.Attributes))}
	stride := 1
	var composed []int // attributes filled from others, after them
	for k := range ent.Attributes[:t.baseAttrs] {
		a := &ent.Attributes[k]
		if !a.stored() || a.LogicalName == "versionnumber" {
			continue
		}
		if a.IsPrimaryID {
			g.vals[k] = baseID(e.opts.RandSeed, ent.LogicalName, i)
			continue
		}
		// Draw the null decision first so adding a generator does not shift
		// the other columns' values.
		isNull := g.r.Float64() < a.NullRate
		var v any
		if target, ok := strings.CutPrefix(a.Gen, "ref:"); ok {
			// Intersect columns hold bare ids of the related rows. Row i
			// enumerates the pairs in order, so pairs are distinct while
			// Records is at most the product of the related row counts.
			entity := strings.TrimSuffix(target, "id")
			if rt := e.tables[entity]; rt != nil && rt.n > 0 {
				v = baseID(e.opts.RandSeed, entity, (i/stride)%rt.n)
				stride *= rt.n
			}
		} else if a.Gen == "fullname" {
			// Composed from firstname and lastname, which may come later in
			// the attribute list: filled after the loop (draws no numbers).
			if !isNull {
				composed = append(composed, k)
			}
			continue
		} else if gen := generators[a.Gen]; gen != nil {
			v = gen(g, a)
		} else {
			v = byType(g, a)
		}
		if !isNull {
			g.vals[k] = v
		}
	}
	for _, k := range composed {
		a := &ent.Attributes[k]
		g.vals[k] = generators[a.Gen](g, a)
	}
	return g.vals
}

func fullName(first, last any) any {
	f, _ := first.(string)
	l, _ := last.(string)
	switch {
	case f == "" && l == "":
		return nil
	case f == "":
		return l
	case l == "":
		return f
	}
	return f + " " + l
}

func asciiOnly(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < 128 && c != '\'' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// decimalText renders unscaled/10^scale with exactly prec decimals
// (rounding half away from zero, like decimal.StringFixed).
func decimalText(unscaled int64, scale int32, prec int) string {
	if int(scale) > prec || prec-int(scale) > 8 {
		return decimal.New(unscaled, -scale).StringFixed(int32(prec))
	}
	for k := int(scale); k < prec; k++ {
		unscaled *= 10
	}
	neg := unscaled < 0
	if neg {
		unscaled = -unscaled
	}
	digits := strconv.FormatInt(unscaled, 10)
	if len(digits) <= prec {
		digits = strings.Repeat("0", prec-len(digits)+1) + digits
	}
	out := digits
	if prec > 0 {
		out = digits[:len(digits)-prec] + "." + digits[len(digits)-prec:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
