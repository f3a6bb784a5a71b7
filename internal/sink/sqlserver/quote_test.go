package sqlserver

import (
	"errors"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

func TestQuoteIdentifiers(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"account", "[account]"},
		{"a]b", "[a]]b]"},
		{"]]", "[]]]]]"},
		{"[x]", "[[x]]]"},
		{"o'brien", "[o'brien]"},
		{"sp ace", "[sp ace]"},
		{"x; DROP TABLE y--", "[x; DROP TABLE y--]"},
		{"日本", "[日本]"},
	}
	for _, tc := range tests {
		if err := checkIdent(tc.name); err != nil {
			t.Errorf("checkIdent(%q) = %v, want accepted", tc.name, err)
		}
		got := qi(tc.name)
		if got != tc.want {
			t.Errorf("qi(%q) = %s, want %s", tc.name, got, tc.want)
		}
		ids, _, err := lex("SELECT " + got)
		if err != nil || !ids[tc.name] {
			t.Errorf("qi(%q) does not lex back to the name: %v %v", tc.name, ids, err)
		}
	}
	if got := ql("it's"); got != "N'it''s'" {
		t.Errorf("ql = %s", got)
	}
	if got := qobj(schema.TableName{Schema: "d]bo", Name: "o'x"}); got != "N'[d]]bo].[o''x]'" {
		t.Errorf("qobj = %s", got)
	}
}

func TestRejectIdentifiers(t *testing.T) {
	tests := []struct {
		what, name string
	}{
		{"empty", ""},
		{"NUL", "a\x00b"},
		{"newline", "a\nb"},
		{"tab", "a\tb"},
		{"DEL", "a\x7fb"},
		{"invalid UTF-8", "a\xffb"},
		{"129 characters", strings.Repeat("a", 129)},
		{"65 astral characters (130 UTF-16 units)", strings.Repeat("𝄞", 65)},
	}
	for _, tc := range tests {
		err := checkIdent(tc.name)
		var ie *IdentifierError
		if !errors.As(err, &ie) || !errors.Is(err, ErrIdentifier) {
			t.Errorf("%s: checkIdent = %v, want *IdentifierError", tc.what, err)
		}
	}
	for _, ok := range []string{strings.Repeat("a", 128), strings.Repeat("𝄞", 64)} {
		if err := checkIdent(ok); err != nil {
			t.Errorf("checkIdent(len %d) = %v, want accepted", len(ok), err)
		}
	}
}

// The public entry points refuse names before building SQL from them.
func TestScriptsRejectBadNames(t *testing.T) {
	good := schema.Table{TableName: schema.TableName{Name: "account"}, Entity: "account", Columns: []schema.Column{{Name: "name", Type: schema.StringType(10)}}}
	tests := []struct {
		name string
		run  func() error
		is   error
	}{
		{"table name with a quote", func() error {
			t := good
			t.Name = `account"; drop table x; --`
			_, err := SchemaScript(nil, t)
			return err
		}, schema.ErrInvalidName},
		{"column with a bracket", func() error {
			t := good
			t.Columns = []schema.Column{{Name: "na]me", Type: schema.StringType(10)}}
			_, err := SchemaScript(nil, t)
			return err
		}, schema.ErrInvalidName},
		{"column colliding with Id", func() error {
			t := good
			t.Columns = []schema.Column{{Name: "ID", Type: schema.ColumnType{Kind: record.GUID}}}
			_, err := SchemaScript(nil, t)
			return err
		}, schema.ErrInvalidName},
		{"schema with a space", func() error {
			_, err := SchemaScript(&sink.Options{Schema: "my schema"}, good)
			return err
		}, schema.ErrInvalidName},
		{"prefix with underscore wildcard", func() error {
			_, err := CleanupEntityScript(&sink.Options{Prefix: "c_"}, "lead")
			return err
		}, schema.ErrInvalidName},
		{"entity with a quote", func() error {
			_, err := CleanupEntityScript(nil, "lead'--")
			return err
		}, schema.ErrInvalidName},
		{"key constraint name over 128 characters", func() error {
			t := good
			t.Name = strings.Repeat("t", 63)
			_, err := SchemaScript(&sink.Options{Schema: strings.Repeat("s", 63)}, t)
			return err
		}, ErrIdentifier},
		{"grant to an empty user", func() error {
			_, err := GrantScript(nil, "")
			return err
		}, ErrIdentifier},
		{"unsupported kind", func() error {
			t := good
			t.Columns = []schema.Column{{Name: "x", Type: schema.ColumnType{Kind: record.Null}}}
			_, err := SchemaScript(nil, t)
			return err
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("accepted, want an error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
		})
	}
}
