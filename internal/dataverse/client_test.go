package dataverse

import (
	"strings"
	"testing"
)

func TestNewClientURLs(t *testing.T) {
	real := &countingCred{tokens: []string{"t"}}
	tests := []struct {
		name    string
		url     string
		static  bool
		o       *ClientOptions
		wantErr string
		base    string
	}{
		{name: "https org", url: "https://contoso.crm.dynamics.com/", base: "https://contoso.crm.dynamics.com/api/data/v9.2/"},
		{name: "api version", url: "https://contoso.crm4.dynamics.com", o: &ClientOptions{APIVersion: "v9.1"}, base: "https://contoso.crm4.dynamics.com/api/data/v9.1/"},
		{name: "relative", url: "contoso.crm.dynamics.com", wantErr: "not an absolute"},
		{name: "ftp", url: "ftp://contoso.crm.dynamics.com", wantErr: "not an absolute"},
		{name: "http remote with real token", url: "http://contoso.crm.dynamics.com", wantErr: "refusing"},
		{name: "http remote allowed", url: "http://contoso.crm.dynamics.com", o: &ClientOptions{InsecureAllowHTTP: true}, base: "http://contoso.crm.dynamics.com/api/data/v9.2/"},
		{name: "http loopback", url: "http://127.0.0.1:8080", base: "http://127.0.0.1:8080/api/data/v9.2/"},
		{name: "http localhost", url: "http://localhost:8080", base: "http://localhost:8080/api/data/v9.2/"},
		{name: "http remote static token", url: "http://emulator:8080", static: true, base: "http://emulator:8080/api/data/v9.2/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *Client
			var err error
			if tt.static {
				c, err = NewClient(tt.url, StaticToken("x"), tt.o)
			} else {
				c, err = NewClient(tt.url, real, tt.o)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.base != tt.base {
				t.Errorf("base = %q, want %q", c.base, tt.base)
			}
		})
	}
}

func TestClientOptionDefaults(t *testing.T) {
	c, err := NewClient("https://x.crm.dynamics.com", StaticToken("t"), &ClientOptions{PageSize: 9000, MaxConcurrency: 100})
	if err != nil {
		t.Fatal(err)
	}
	if c.PageSize() != MaxPageSize || cap(c.sem) != 50 {
		t.Errorf("page size %d, concurrency %d; want 5000 and 50", c.PageSize(), cap(c.sem))
	}
	d, _ := NewClient("https://x.crm.dynamics.com", StaticToken("t"), nil)
	if d.PageSize() != 5000 || cap(d.sem) != 16 || d.limiter == nil || d.limiter.rate != 18 || d.opts.MaxRetries != 8 {
		t.Errorf("defaults: %+v", d.opts)
	}
}
