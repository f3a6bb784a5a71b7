package dataverse

import (
	"bytes"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// strBuf makes the strings of decoded values. Instead of one allocation per
// string it copies them into large append-only chunks and hands out string
// views of them: bytes once written are never modified, so the strings stay
// valid after the buffer moves on to a new chunk. A chunk lives as long as
// any string in it, i.e. about as long as the page it was decoded for.
type strBuf struct {
	scratch []byte // unquoting of escaped strings
	arena   []byte // current chunk
}

const (
	arenaChunk = 32 << 10
	arenaMax   = 1 << 10 // longer strings get their own allocation, not a chunk's tail
)

// keep returns a string with the contents of b.
func (sb *strBuf) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaMax {
		return string(b)
	}
	if cap(sb.arena)-len(sb.arena) < len(b) {
		sb.arena = make([]byte, 0, arenaChunk)
	}
	start := len(sb.arena)
	sb.arena = append(sb.arena, b...)
	return unsafe.String(&sb.arena[start], len(b))
}

// unquote returns the contents of a JSON string.
func (sb *strBuf) unquote(raw jsontext.Value) (string, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", errWrongJSON
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		if !utf8.Valid(inner) {
			// As AppendUnquote does for escaped text: U+FFFD for bad bytes.
			return sb.keep([]byte(strings.ToValidUTF8(string(inner), "\uFFFD"))), nil
		}
		return sb.keep(inner), nil
	}
	b, err := appendUnquote(sb.scratch[:0], raw)
	if err != nil {
		return "", err
	}
	sb.scratch = b
	return sb.keep(b), nil
}

// appendUnquote is jsontext.AppendUnquote that keeps the U+FFFD it writes
// for invalid UTF-8 and unpaired surrogates instead of failing on them. The
// value has passed the decoder's syntax check (which allows exactly those),
// so an error with U+FFFD in the output is one of them.
func appendUnquote(dst []byte, raw jsontext.Value) ([]byte, error) {
	start := len(dst)
	b, err := jsontext.AppendUnquote(dst, raw)
	if err != nil && utf8.Valid(b[start:]) && bytes.ContainsRune(b[start:], utf8.RuneError) {
		return b, nil
	}
	return b, err
}
