package profile

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxDocumentBytes bounds a profile document; a profile is stored in one
// Table storage property (64 KiB as UTF-16).
const MaxDocumentBytes = 64 << 10

// Decode reads a profile document strictly: one JSON object whose field
// names match exactly, letter case included ("retrycount" is not
// "retryCount", which encoding/json would take), with no unknown or
// repeated field. Errors are *FieldError naming the field by JSON pointer.
// The document is not validated: call Validate.
func Decode(b []byte) (Profile, error) {
	var p Profile
	if err := DecodeStrict(b, &p); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// DecodeStrict decodes one JSON object into v with Decode's rules; v is a
// pointer to a struct with json tags. Other request bodies of the
// management API use it too.
func DecodeStrict(b []byte, v any) error {
	if len(b) > MaxDocumentBytes {
		return fieldErr("", "the document is larger than %d bytes", MaxDocumentBytes)
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return fieldErr("", "the body is empty; a JSON object is required")
	}
	if t[0] != '{' {
		return fieldErr("", "the body must be a JSON object")
	}
	err := json.Unmarshal(t, v,
		json.RejectUnknownMembers(true),
		json.MatchCaseInsensitiveNames(false),
		jsontext.AllowDuplicateNames(false),
		jsontext.AllowInvalidUTF8(false))
	if err == nil {
		return nil
	}
	return decodeError(err, reflect.TypeOf(v))
}

// decodeError turns a decoder error into a FieldError naming the field.
func decodeError(err error, root reflect.Type) error {
	var se *json.SemanticError
	var sx *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		ptr := string(se.JSONPointer)
		if errors.Is(se.Err, json.ErrUnknownName) {
			reason := "unknown field"
			if want := knownName(root, ptr); want != "" {
				reason += fmt.Sprintf("; field names are case-sensitive: did you mean %q?", want)
			}
			return fieldErr(ptr, "%s", reason)
		}
		return fieldErr(ptr, "must be %s", describe(se.GoType))
	case errors.As(err, &sx):
		if errors.Is(sx.Err, jsontext.ErrDuplicateName) {
			return fieldErr(string(sx.JSONPointer), "is given more than once")
		}
		return fieldErr(string(sx.JSONPointer), "not valid JSON at byte %d: %v", sx.ByteOffset, sx.Err)
	}
	return fieldErr("", "not valid JSON: %v", err)
}

// knownName finds the field, at the place ptr points to, whose name
// matches the last segment of ptr but for letter case.
func knownName(t reflect.Type, ptr string) string {
	segs := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, seg := range segs {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return ""
		}
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		var next reflect.Type
		for j := range t.NumField() {
			f := t.Field(j)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if i == len(segs)-1 && strings.EqualFold(name, seg) {
				return name
			}
			if name == seg {
				next = f.Type
			}
		}
		if next == nil {
			return ""
		}
		t = next
	}
	return ""
}

func describe(t reflect.Type) string {
	if t == nil {
		return "a value of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describe(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a value of type " + t.String()
}
