package dvemu

import (
	"bufio"
	"fmt"
	"net/http"

	"github.com/go-json-experiment/json/jsontext"
)

// obj is an ordered JSON object, used for metadata where property order
// makes responses readable. Values: string, int, int64, bool, nil, float64,
// number (raw JSON number text), obj, []obj, []any, []string.
type obj []member

type member struct {
	k string
	v any
}

type number string

func (o obj) get(k string) (any, bool) {
	for _, m := range o {
		if m.k == k {
			return m.v, true
		}
	}
	return nil, false
}

func writeAny(enc *jsontext.Encoder, v any) error {
	switch x := v.(type) {
	case nil:
		return enc.WriteToken(jsontext.Null)
	case string:
		return enc.WriteToken(jsontext.String(x))
	case bool:
		return enc.WriteToken(jsontext.Bool(x))
	case int:
		return enc.WriteToken(jsontext.Int(int64(x)))
	case int64:
		return enc.WriteToken(jsontext.Int(x))
	case float64:
		return enc.WriteToken(jsontext.Float(x))
	case number:
		return enc.WriteValue(jsontext.Value(x))
	case obj:
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, m := range x {
			if err := enc.WriteToken(jsontext.String(m.k)); err != nil {
				return err
			}
			if err := writeAny(enc, m.v); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case []obj:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, o := range x {
			if err := writeAny(enc, o); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case []string:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, s := range x {
			if err := enc.WriteToken(jsontext.String(s)); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	case []any:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, a := range x {
			if err := writeAny(enc, a); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	}
	return fmt.Errorf("dvemu: cannot encode %T", v)
}

// startJSON sets the OData response headers and returns a buffered encoder;
// call flush when done.
func startJSON(w http.ResponseWriter, status int) (*jsontext.Encoder, func()) {
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	w.WriteHeader(status)
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := jsontext.NewEncoder(bw, jsontext.AllowDuplicateNames(true))
	return enc, func() { _ = bw.Flush() }
}

func writeObj(w http.ResponseWriter, status int, o obj) {
	enc, flush := startJSON(w, status)
	_ = writeAny(enc, o)
	flush()
}
