package dataverse

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// The page scanner reads a page body held whole in memory, in the shape
// Dataverse sends: an object of scalar annotations and links around a
// "value" array of flat row objects whose member names have no escapes. It
// checks JSON syntax as strictly as jsontext does for what it takes, and
// answers only ok or not: a body it does not take goes to jsontext
// (decodeStream), which decides and names any error. Rows go through the
// same member/endRow code either way, so the two cannot disagree on a value.
//
// It exists for speed: jsontext's general state machine was the largest
// single cost of the initial load (about half of the runner's CPU).

// scanner is a position in a body.
type scanner struct {
	b []byte
	i int
}

// plain marks the bytes a JSON string holds without escaping: not the
// quote, not the backslash, not a control character. Bytes of invalid
// UTF-8 are plain, as jsontext.AllowInvalidUTF8 takes them.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c after any whitespace.
func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str consumes a string at s.i: raw is it with its quotes, esc whether it
// holds an escape sequence (each checked to be one JSON allows).
func (s *scanner) str() (raw []byte, esc, ok bool) {
	b := s.b
	i := s.i
	if i >= len(b) || b[i] != '"' {
		return nil, false, false
	}
	i++
	for {
		// Eight bytes at a time while none is special (SWAR: a byte below
		// 0x20, a quote or a backslash sets its top bit in m; the lowest
		// set bit is exact), then byte by byte up to the special one.
		for i+8 <= len(b) {
			v := binary.LittleEndian.Uint64(b[i:])
			m := (v - ones*0x20) &^ v
			q := v ^ ones*'"'
			m |= (q - ones) &^ q
			q = v ^ ones*'\\'
			m |= (q - ones) &^ q
			if m &= highs; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return nil, false, false
		}
		switch b[i] {
		case '"':
			raw = b[s.i : i+1]
			s.i = i + 1
			return raw, esc, true
		case '\\':
			esc = true
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		default: // a control character
			return nil, false, false
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// name consumes a member name without escapes, with its colon. The string
// aliases the body.
func (s *scanner) name() (string, bool) {
	s.ws()
	raw, esc, ok := s.str()
	if !ok || esc || !s.eat(':') {
		return "", false
	}
	return unsafeString(raw[1 : len(raw)-1]), true
}

// scalar consumes a string, number, true, false or null after any
// whitespace; an object or array is not taken.
func (s *scanner) scalar() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		raw, _, ok := s.str()
		return raw, ok
	case c == 'n':
		return s.literal("null")
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == '-' || isDigit(c):
		if !s.number() {
			return nil, false
		}
		return s.b[start:s.i], true
	}
	return nil, false
}

func (s *scanner) literal(lit string) ([]byte, bool) {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return nil, false
	}
	s.i += len(lit)
	return s.b[s.i-len(lit) : s.i], true
}

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. What
// follows it is checked by the caller's structure (a comma or a closing
// bracket), so 012 or 1x is not taken.
func (s *scanner) number() bool {
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	s.i = i
	return true
}

// scanPage decodes body into page, as decodeStream would, or says it does
// not take it (then page may hold part of it; the caller truncates).
func (d *pageDecoder) scanPage(body []byte, page *ChangesPage) (pageBody, bool) {
	var env pageBody
	s := scanner{b: body}
	if !s.eat('{') || s.eat('}') {
		return env, false // an empty object has no "value": jsontext's error
	}
	sawValue := false
	for {
		name, ok := s.name()
		if !ok {
			return env, false
		}
		if name == "value" {
			if !d.scanRows(&s, page) {
				return env, false
			}
			sawValue = true
		} else {
			raw, ok := s.scalar()
			if !ok {
				return env, false
			}
			var link *string
			switch name {
			case "@odata.context":
				link = &env.context
			case "@odata.nextLink":
				link = &env.nextLink
			case "@odata.deltaLink":
				link = &env.deltaLink
			case "@" + metadataVersionAnnotation:
				if raw[0] != '"' {
					env.metadataVersion = string(raw)
				} else if env.metadataVersion, ok = d.unquoteOK(raw); !ok {
					return env, false
				}
			}
			if link != nil {
				if *link, ok = d.unquoteOK(raw); !ok {
					return env, false
				}
			}
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		return env, false
	}
	s.ws()
	if s.i != len(body) || !sawValue {
		return env, false
	}
	return env, true
}

func (d *pageDecoder) unquoteOK(raw []byte) (string, bool) {
	v, err := d.sb.unquote(raw)
	return v, err == nil
}

func (d *pageDecoder) scanRows(s *scanner, page *ChangesPage) bool {
	if !s.eat('[') {
		return false
	}
	if s.eat(']') {
		return true
	}
	for {
		if !d.scanRow(s, page) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat(']')
	}
}

func (d *pageDecoder) scanRow(s *scanner, page *ChangesPage) bool {
	if !s.eat('{') {
		return false
	}
	d.startRow()
	if !s.eat('}') {
		for {
			// The predicted name is compared as bytes, quotes and all.
			m := d.predicted()
			if s.ws(); m != nil && m.quoted != nil && bytes.HasPrefix(s.b[s.i:], m.quoted) {
				d.prev = m
				s.i += len(m.quoted)
				if !s.eat(':') {
					return false
				}
			} else {
				name, ok := s.name()
				if !ok {
					return false
				}
				m = d.slotFor(name)
			}
			raw, ok := s.scalar()
			if !ok || d.take(m.name, m.slot, m.ok, raw) != nil {
				return false
			}
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return false
		}
	}
	return d.endRow(page) == nil
}

// quotedPlain is name in quotes when every byte of it is plain (no escape
// needed, so the body spells it exactly so), else nil.
func quotedPlain(name string) []byte {
	for i := 0; i < len(name); i++ {
		if !plain[name[i]] {
			return nil
		}
	}
	return []byte(`"` + name + `"`)
}
