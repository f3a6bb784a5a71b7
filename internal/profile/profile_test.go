package profile

import (
	"errors"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

func valid() Profile {
	return Profile{
		Name:        "crm",
		Entities:    []string{"account", "contact"},
		Destination: Destination{Type: Postgres, KeyVaultSecretURL: "https://contoso-kv.vault.azure.net/secrets/crm-db"},
	}
}

// Every rule, one case each: the error names the field by JSON pointer and
// says what is wrong; nothing else is reported.
func TestValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Profile)
		pointer string // "" = valid
		say     string
	}{
		{"valid with Key Vault", func(*Profile) {}, "", ""},
		{"valid with a versioned secret", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/crm-db/0123456789abcdef0123456789abcdef"
		}, "", ""},
		{"valid with a plain connection", func(p *Profile) {
			p.Destination = Destination{Type: SQLite, Connection: "/tmp/x.db"}
		}, "", ""},
		{"valid at the DES limits", func(p *Profile) {
			p.RetryCount, p.RetryIntervalSeconds, p.Prefix, p.Schema = intp(20), intp(3600), "abcdefghij1234", "crm2"
		}, "", ""},
		{"valid with zero retries", func(p *Profile) { p.RetryCount, p.RetryIntervalSeconds = intp(0), intp(0) }, "", ""},
		{"name missing", func(p *Profile) { p.Name = "" }, "/name", "required"},
		{"name with a space", func(p *Profile) { p.Name = "my profile" }, "/name", "letters, digits"},
		{"name starting with a hyphen", func(p *Profile) { p.Name = "-x" }, "/name", "starting with"},
		{"name too long", func(p *Profile) { p.Name = strings.Repeat("a", 64) }, "/name", "1-63"},
		{"name reserved", func(p *Profile) { p.Name = "Validate" }, "/name", "reserved"},
		{"no entities", func(p *Profile) { p.Entities = nil }, "/entities", "at least one"},
		{"entity not a logical name", func(p *Profile) { p.Entities = []string{"account", "Contact"} }, "/entities/1", "logical name"},
		{"entity twice", func(p *Profile) { p.Entities = []string{"account", "contact", "account"} }, "/entities/2", "twice"},
		{"activitypointer", func(p *Profile) { p.Entities = []string{"account", "activitypointer"} }, "/entities/1", "phonecall, appointment, email and task"},
		{"schema not alphanumeric", func(p *Profile) { p.Schema = "dbo.x" }, "/schema", "letters and digits"},
		{"schema too long", func(p *Profile) { p.Schema = strings.Repeat("s", 64) }, "/schema", "at most 63"},
		{"prefix not alphanumeric", func(p *Profile) { p.Prefix = "crm_" }, "/prefix", "letters and digits"},
		{"prefix of 15", func(p *Profile) { p.Prefix = "abcdefghij12345" }, "/prefix", "fewer than 15"},
		{"retry count below", func(p *Profile) { p.RetryCount = intp(-1) }, "/retryCount", "0-20"},
		{"retry count above", func(p *Profile) { p.RetryCount = intp(21) }, "/retryCount", "0-20"},
		{"retry interval below", func(p *Profile) { p.RetryIntervalSeconds = intp(-1) }, "/retryIntervalSeconds", "0-3600"},
		{"retry interval above", func(p *Profile) { p.RetryIntervalSeconds = intp(3601) }, "/retryIntervalSeconds", "0-3600"},
		{"destination type missing", func(p *Profile) { p.Destination.Type = "" }, "/destination/type", "required"},
		{"destination type unknown", func(p *Profile) { p.Destination.Type = "oracle" }, "/destination/type", `"oracle"`},
		{"no secret URL nor connection", func(p *Profile) { p.Destination.KeyVaultSecretURL = "" }, "/destination/keyVaultSecretUrl", "required"},
		{"both secret URL and connection", func(p *Profile) { p.Destination.Connection = "x" }, "/destination/connection", "not both"},
		{"secret URL over http", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "http://contoso-kv.vault.azure.net/secrets/crm-db"
		}, "/destination/keyVaultSecretUrl", "https"},
		{"secret URL not a vault host", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://example.com/secrets/crm-db"
		}, "/destination/keyVaultSecretUrl", "not a Key Vault host"},
		{"secret URL of the vault only", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/"
		}, "/destination/keyVaultSecretUrl", "/secrets/<name>"},
		{"secret URL with a query", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/crm-db?api-version=7.4"
		}, "/destination/keyVaultSecretUrl", "no credentials, query"},
		{"secret URL with a bad version", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/crm-db/latest"
		}, "/destination/keyVaultSecretUrl", "not a secret version"},
		{"secret URL with a bad name", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/crm_db"
		}, "/destination/keyVaultSecretUrl", "not a secret name"},
		{"secret URL with a bad vault name", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://kv.vault.azure.net/secrets/crm-db"
		}, "/destination/keyVaultSecretUrl", "not a vault name"},
		{"secret URL with a trailing slash", func(p *Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/crm-db/"
		}, "/destination/keyVaultSecretUrl", "not a secret version"},
		{"label views by default", func(p *Profile) { p.LabelViews = &LabelViews{} }, "", ""},
		{"label views named and in German", func(p *Profile) { p.LabelViews = &LabelViews{Name: "v_{table}_de", Language: 1031} }, "", ""},
		{"label view without {table}", func(p *Profile) { p.LabelViews = &LabelViews{Name: "labels"} }, "/labelViews/name", "{table} once"},
		{"label view with {table} twice", func(p *Profile) { p.LabelViews = &LabelViews{Name: "{table}_{table}"} }, "/labelViews/name", "{table} once"},
		{"label view named like its table", func(p *Profile) { p.LabelViews = &LabelViews{Name: "{table}"} }, "/labelViews/name", "add letters"},
		{"label view with a dash", func(p *Profile) { p.LabelViews = &LabelViews{Name: "{table}-labels"} }, "/labelViews/name", "letters, digits or '_'"},
		{"label language negative", func(p *Profile) { p.LabelViews = &LabelViews{Language: -1} }, "/labelViews/language", "LCID"},
		{"label language too large", func(p *Profile) { p.LabelViews = &LabelViews{Language: 70000} }, "/labelViews/language", "LCID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.edit(&p)
			err := p.Validate()
			if tt.pointer == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			fes := FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("Validate = %v: want exactly one field error", err)
			}
			if fes[0].Pointer != tt.pointer || !strings.Contains(fes[0].Reason, tt.say) {
				t.Fatalf("field error %q: want pointer %s saying %q", fes[0], tt.pointer, tt.say)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Error("the error is not ErrInvalid")
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	p := Profile{Entities: []string{"x y"}, Destination: Destination{Type: "nope"}, RetryCount: intp(99)}
	var got []string
	for _, fe := range FieldErrors(p.Validate()) {
		got = append(got, fe.Pointer)
	}
	want := "/name /entities/0 /destination/type /destination/keyVaultSecretUrl /retryCount"
	if strings.Join(got, " ") != want {
		t.Fatalf("pointers %v, want %s", got, want)
	}
}

func TestCheckPolicy(t *testing.T) {
	loop := valid()
	loop.Destination.KeyVaultSecretURL = "https://127.0.0.1:8443/secrets/crm-db"
	plain := valid()
	plain.Destination = Destination{Type: Postgres, Connection: "postgres://u:pw@h/db"}
	tests := []struct {
		name    string
		p       Profile
		local   bool
		pointer string
	}{
		{"Key Vault in Azure", valid(), false, ""},
		{"plain connection in Azure", plain, false, "/destination/connection"},
		{"plain connection in local development", plain, true, ""},
		{"loopback vault in Azure", loop, false, "/destination/keyVaultSecretUrl"},
		{"loopback vault in local development", loop, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); err != nil {
				t.Fatalf("the case must be well-formed: %v", err)
			}
			err := CheckPolicy(tt.p, Policy{LocalDevelopment: tt.local})
			fes := FieldErrors(err)
			if tt.pointer == "" {
				if err != nil {
					t.Fatalf("CheckPolicy = %v", err)
				}
				return
			}
			if len(fes) != 1 || fes[0].Pointer != tt.pointer || !strings.Contains(fes[0].Reason, "LOCAL_DEVELOPMENT=true") {
				t.Fatalf("CheckPolicy = %v, want one error on %s naming the setting", err, tt.pointer)
			}
			if strings.Contains(err.Error(), "pw@h") {
				t.Fatalf("the error quotes the connection string: %v", err)
			}
		})
	}
}

func TestParseSecretURL(t *testing.T) {
	u, err := ParseSecretURL("https://contoso-kv.vault.azure.net/secrets/crm-db/0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if u.VaultURL != "https://contoso-kv.vault.azure.net" || u.Name != "crm-db" || u.Version != "0123456789abcdef0123456789abcdef" || u.Loopback {
		t.Fatalf("%+v", u)
	}
	for _, raw := range []string{"https://kv1.vault.azure.cn/secrets/a", "https://kv1.vault.usgovcloudapi.net/secrets/a", "https://[::1]:8443/secrets/a", "https://localhost:1/secrets/a"} {
		if _, err := ParseSecretURL(raw); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, raw := range []string{"", "https://contoso-kv.vault.azure.net:444/secrets/a", "https://u:p@contoso-kv.vault.azure.net/secrets/a", "https://contoso-kv.vault.azure.net/keys/a", "https://contoso-kv.vault.azure.net/secrets/a#x", "https://contoso-kv.vault.azure.net/secrets/a/0123456789abcdef0123456789abcdef/x"} {
		if _, err := ParseSecretURL(raw); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}

func TestSameDestination(t *testing.T) {
	a := valid()
	b := valid()
	b.Destination.KeyVaultSecretURL += "/0123456789abcdef0123456789abcdef"
	if !a.SameDestination(b) {
		t.Error("another version of the same secret is another destination")
	}
	c := valid()
	c.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/other-db"
	if a.SameDestination(c) {
		t.Error("another secret is the same destination")
	}
	d := valid()
	d.Prefix = "x"
	if a.SameDestination(d) {
		t.Error("another prefix is the same destination")
	}
}

func TestDecodeStrict(t *testing.T) {
	ok := `{"name":"crm","entities":["account"],"destination":{"type":"postgres","keyVaultSecretUrl":"https://contoso-kv.vault.azure.net/secrets/crm-db"},"retryCount":3}`
	p, err := Decode([]byte(ok))
	if err != nil || p.Name != "crm" || *p.RetryCount != 3 || p.Destination.Type != Postgres {
		t.Fatalf("Decode = %+v, %v", p, err)
	}
	tests := []struct {
		name, body, pointer, say string
	}{
		{"field name in another letter case", `{"name":"crm","retrycount":3}`, "/retrycount", `did you mean "retryCount"`},
		{"nested field in another letter case", `{"name":"crm","destination":{"Type":"sqlite"}}`, "/destination/Type", `did you mean "type"`},
		{"unknown field", `{"name":"crm","colour":"red"}`, "/colour", "unknown field"},
		{"state is not part of the document", `{"name":"crm","state":"Active"}`, "/state", "unknown field"},
		{"repeated field", `{"name":"crm","name":"other"}`, "/name", "more than once"},
		{"number as a string", `{"name":"crm","retryCount":"3"}`, "/retryCount", "a whole number"},
		{"entities as a string", `{"name":"crm","entities":"account"}`, "/entities", "an array of strings"},
		{"entity as a number", `{"name":"crm","entities":["account",7]}`, "/entities/1", "a string"},
		{"not an object", `["crm"]`, "", "JSON object"},
		{"empty body", ``, "", "empty"},
		{"trailing data", `{"name":"crm"} {}`, "", "not valid JSON"},
		{"broken JSON", `{"name":"crm"`, "", "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.body))
			fes := FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("Decode = %v, want one field error", err)
			}
			if fes[0].Pointer != tt.pointer || !strings.Contains(fes[0].Reason, tt.say) {
				t.Fatalf("field error %q: want pointer %q saying %q", fes[0], tt.pointer, tt.say)
			}
		})
	}
}

// FuzzDecode: any input is either refused with field errors or decoded into
// a profile that survives Validate without panicking; never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"crm","entities":["account"],"destination":{"type":"postgres","keyVaultSecretUrl":"https://contoso-kv.vault.azure.net/secrets/crm-db"}}`,
		`{"name":"crm","retrycount":3}`, `{"destination":{"Type":1}}`, `{"a":1,"a":2}`, `[]`, `{"entities":[null,"x"]}`,
		`{"retryCount":1e400}`, "{\"name\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		for _, fe := range FieldErrors(p.Validate()) {
			if fe.Pointer != "" && fe.Pointer[0] != '/' {
				t.Fatalf("pointer %q", fe.Pointer)
			}
		}
		_ = CheckPolicy(p, Policy{})
	})
}
