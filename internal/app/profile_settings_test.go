package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/settings"
)

func TestProfileFromSettings(t *testing.T) {
	const secret = "postgres://user:s3cret@db/crm"
	base := map[string]string{
		"PROFILE_NAME": "crm", "PROFILE_ENTITIES": " account, contact ,", "DESTINATION_TYPE": "postgres",
		"DESTINATION_CONNECTION": secret, "PROFILE_SCHEMA": "crm", "PROFILE_PREFIX": "d", "PROFILE_WRITE_DELETE_LOG": "true",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		m       map[string]string
		ok      bool
		wantErr string
	}{
		{"every setting", base, true, ""},
		{"no profile name: profiles managed elsewhere", with("PROFILE_NAME", ""), false, ""},
		{"no entities", with("PROFILE_ENTITIES", " , "), false, "PROFILE_ENTITIES"},
		{"unknown destination type", with("DESTINATION_TYPE", "oracle"), false, "oracle"},
		{"bad delete log flag", with("PROFILE_WRITE_DELETE_LOG", "sometimes"), false, "PROFILE_WRITE_DELETE_LOG"},
		{"bad prefix", with("PROFILE_PREFIX", "no-dashes"), false, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok, err := ProfileFromSettings(settings.FromMap(tt.m))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want it to name %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error quotes the connection string: %v", err)
				}
				return
			}
			if err != nil || ok != tt.ok {
				t.Fatalf("ok %v, err %v; want ok %v", ok, err, tt.ok)
			}
			if !ok {
				return
			}
			if p.Name != "crm" || !slices.Equal(p.Entities, []string{"account", "contact"}) || p.Destination.Type != "postgres" ||
				p.Destination.Connection != secret || p.Schema != "crm" || p.Prefix != "d" || !p.WriteDeleteLog {
				t.Fatalf("profile = %+v", p.Redacted())
			}
		})
	}
}

func TestDataverseRateSetting(t *testing.T) {
	for _, tt := range []struct {
		v       string
		wantErr bool
	}{{"", false}, {"50", false}, {"-1", false}, {"0", true}, {"fast", true}, {"NaN", true}} {
		_, err := dataverseClient(settings.FromMap(map[string]string{
			"DATAVERSE_URL": "http://127.0.0.1:9", "DATAVERSE_TOKEN": "t", "DATAVERSE_REQUESTS_PER_SECOND": tt.v,
		}), dataverse.StaticToken("t"))
		if (err != nil) != tt.wantErr || (err != nil && !strings.Contains(err.Error(), "DATAVERSE_REQUESTS_PER_SECOND")) {
			t.Errorf("DATAVERSE_REQUESTS_PER_SECOND=%q: %v; want error %v naming the setting", tt.v, err, tt.wantErr)
		}
	}
}
