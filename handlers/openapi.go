package handlers

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

// enums are the string types whose values the document lists.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[profile.State]():      {string(profile.Active), string(profile.Inactive)},
	reflect.TypeFor[state.Phase]():        {string(state.PhaseInitial), string(state.PhaseDelta), string(state.PhaseRebaseline), string(state.PhaseBlocked), string(state.PhaseNotStarted)},
	reflect.TypeFor[manage.CheckStatus](): {string(manage.Pass), string(manage.Fail), string(manage.Warn), string(manage.Skipped)},
}

// OpenAPI is the OpenAPI 3.0 document of the management API, built from
// the routes the handler serves, so the two cannot drift apart.
func OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]any{}
	for _, rt := range apiRoutes() {
		item := map[string]any{}
		var params []any
		for _, p := range rt.Params() {
			desc := "the profile's name"
			if p == "entity" {
				desc = "the logical name of an entity of the profile"
			}
			params = append(params, map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}, "description": desc})
		}
		if len(params) > 0 {
			item["parameters"] = params
		}
		for _, m := range rt.methods() {
			op := rt.Ops[m]
			o := map[string]any{"operationId": op.ID, "summary": op.Summary, "x-function": rt.Function}
			var ps []any
			for _, q := range op.Query {
				ps = append(ps, map[string]any{"name": q.Name, "in": "query", "required": false, "description": q.Description, "schema": map[string]any{"type": q.Type}})
			}
			if op.IfMatch {
				ps = append(ps, map[string]any{"name": "If-Match", "in": "header", "required": false,
					"description": "the ETag the profile was read with: the change is made only if nobody changed it since (412 otherwise)", "schema": map[string]any{"type": "string"}})
			}
			if len(ps) > 0 {
				o["parameters"] = ps
			}
			if op.Body != nil {
				o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(op.Body))}}}
			}
			status := op.Status
			if status == 0 {
				status = http.StatusOK
			}
			ok := map[string]any{"description": http.StatusText(status)}
			if op.ID == "openapi" {
				ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
			} else {
				ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(op.Result))}}
			}
			if _, isView := op.Result.(manage.ProfileView); isView {
				ok["headers"] = map[string]any{"ETag": map[string]any{"description": "the version, for If-Match", "schema": map[string]any{"type": "string"}}}
			}
			responses := map[string]any{strconv.Itoa(status): ok}
			for _, code := range append([]int{http.StatusUnauthorized, http.StatusInternalServerError}, op.Errors...) {
				responses[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
					"content": map[string]any{ProblemContentType: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
			}
			o["responses"] = responses
			item[strings.ToLower(m)] = o
		}
		paths["/"+RoutePrefix+"/"+rt.Template] = item
	}
	g.schema(reflect.TypeFor[Problem]())
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "dataexport management API",
			"version":     "1",
			"description": "Export Profiles: create, validate, test, activate and watch them. Errors are application/problem+json (RFC 9457) naming each wrong field by JSON pointer.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"functionKey":      map[string]any{"type": "apiKey", "in": "header", "name": "x-functions-key", "description": "a function key (Azure) or ADMIN_API_KEY (dataexport run)"},
				"functionKeyQuery": map[string]any{"type": "apiKey", "in": "query", "name": "code"},
				"entraID":          map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "an Entra ID access token for ADMIN_ENTRA_AUDIENCE (dataexport run)"},
			},
		},
		"security": []any{map[string]any{"functionKey": []any{}}, map[string]any{"functionKeyQuery": []any{}}, map[string]any{"entraID": []any{}}},
	}
}

// schemaGen turns Go types into JSON schemas (OpenAPI 3.0 dialect), named
// structs as components.
type schemaGen struct{ defs map[string]any }

var timeType = reflect.TypeFor[time.Time]()

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	var s map[string]any
	switch {
	case t == timeType:
		s = map[string]any{"type": "string", "format": "date-time"}
	case enums[t] != nil:
		s = map[string]any{"type": "string", "enum": enums[t]}
	default:
		switch t.Kind() {
		case reflect.String:
			s = map[string]any{"type": "string"}
		case reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			s = map[string]any{"type": "integer"}
		case reflect.Float32, reflect.Float64:
			s = map[string]any{"type": "number"}
		case reflect.Slice, reflect.Array:
			s = map[string]any{"type": "array", "items": g.schema(t.Elem())}
		case reflect.Map:
			s = map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
		case reflect.Struct:
			name := t.Name()
			if _, ok := g.defs[name]; !ok {
				g.defs[name] = map[string]any{} // a placeholder breaks cycles
				g.defs[name] = g.object(t)
			}
			s = map[string]any{"$ref": "#/components/schemas/" + name}
		case reflect.Interface:
			s = map[string]any{}
		default:
			s = map[string]any{"type": "string"}
		}
	}
	if nullable {
		if _, isRef := s["$ref"]; isRef {
			return map[string]any{"allOf": []any{s}, "nullable": true}
		}
		s["nullable"] = true
	}
	return s
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			required = append(required, name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
