package secrets

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/dataexport/dataexport/internal/secrets/kvtest"
)

// recordingCred hands out one token and remembers what it was asked for.
type recordingCred struct {
	token string
	mu    gosync.Mutex
	asked []policy.TokenRequestOptions
}

func (c *recordingCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, o)
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

const conn = "postgres://app:S3cr3t-Pa55@db.example.com:5432/crm"

func newResolver(t *testing.T, v *kvtest.Vault, cred azcore.TokenCredential, o Options) *Resolver {
	t.Helper()
	o.ClientOptions.Transport = v.Client()
	o.AllowLoopback = true
	return New(cred, &o)
}

// The real azsecrets client against the HTTPS double: the first request
// draws the 401 challenge, the credential is asked for the Key Vault scope
// in the challenge's tenant, and the value comes back; within the TTL it
// is served from memory.
func TestResolveThroughTheChallenge(t *testing.T) {
	v := kvtest.New()
	defer v.Close()
	v.Token = "kv-token"
	v.SetSecret("crm-db", conn)
	cred := &recordingCred{token: "kv-token"}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	r := newResolver(t, v, cred, Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})

	for range 3 {
		got, err := r.Resolve(t.Context(), v.SecretURL("crm-db"))
		if err != nil || got != conn {
			t.Fatalf("Resolve = %q, %v", got, err)
		}
	}
	if v.Challenges() != 1 || v.Reads() != 1 {
		t.Fatalf("challenges %d, reads %d; want one of each (then the cache)", v.Challenges(), v.Reads())
	}
	if len(cred.asked) == 0 || len(cred.asked[0].Scopes) != 1 || cred.asked[0].Scopes[0] != kvtest.Resource+"/.default" || cred.asked[0].TenantID != kvtest.Tenant {
		t.Fatalf("credential asked for %+v; want the vault scope in the challenge's tenant", cred.asked)
	}

	// A rotated secret is read again once the TTL has passed.
	v.SetSecret("crm-db", conn+"?rotated")
	clock.Add(int64(DefaultTTL + time.Second))
	if got, err := r.Resolve(t.Context(), v.SecretURL("crm-db")); err != nil || got != conn+"?rotated" {
		t.Fatalf("after the TTL: %q, %v", got, err)
	}
	// A failure is remembered briefly, then the secret is asked for again.
	missing := v.SecretURL("later")
	if _, err := r.Resolve(t.Context(), missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	v.SetSecret("later", "now here")
	if _, err := r.Resolve(t.Context(), missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("within the failure TTL: %v, want the remembered failure", err)
	}
	clock.Add(int64(DefaultFailureTTL + time.Second))
	if got, err := r.Resolve(t.Context(), missing); err != nil || got != "now here" {
		t.Fatalf("after the failure TTL: %q, %v", got, err)
	}
	// Forget drops the value at once.
	v.SetSecret("crm-db", conn+"?again")
	r.Forget(v.SecretURL("crm-db"))
	if got, err := r.Resolve(t.Context(), v.SecretURL("crm-db")); err != nil || got != conn+"?again" {
		t.Fatalf("after Forget: %q, %v", got, err)
	}
}

func TestResolvePinnedVersion(t *testing.T) {
	v := kvtest.New()
	defer v.Close()
	first := v.SetSecret("crm-db", "first")
	v.SetSecret("crm-db", "second")
	r := newResolver(t, v, &recordingCred{token: "t"}, Options{})
	if got, err := r.Resolve(t.Context(), v.SecretURL("crm-db")+"/"+first); err != nil || got != "first" {
		t.Fatalf("pinned: %q, %v", got, err)
	}
	if got, err := r.Resolve(t.Context(), v.SecretURL("crm-db")); err != nil || got != "second" {
		t.Fatalf("latest: %q, %v", got, err)
	}
}

// Every failure names the secret URL and says what to do; none carries a
// value.
func TestResolveErrors(t *testing.T) {
	v := kvtest.New()
	defer v.Close()
	v.SetSecret("crm-db", conn)
	v.SetSecret("off", conn)
	v.Disable("off")
	tests := []struct {
		name   string
		url    string
		setup  func(*testing.T) *Resolver
		status int
		say    string
		is     error
	}{
		{"missing secret", v.SecretURL("nope"), func(t *testing.T) *Resolver { return newResolver(t, v, &recordingCred{token: "t"}, Options{}) },
			404, "no such secret", ErrNotFound},
		{"missing version", v.SecretURL("crm-db") + "/0123456789abcdef0123456789abcdef", func(t *testing.T) *Resolver { return newResolver(t, v, &recordingCred{token: "t"}, Options{}) },
			404, "no such secret", ErrNotFound},
		{"disabled secret", v.SecretURL("off"), func(t *testing.T) *Resolver { return newResolver(t, v, &recordingCred{token: "t"}, Options{}) },
			403, "Key Vault Secrets User", nil},
		{"token refused", v.SecretURL("crm-db"), func(t *testing.T) *Resolver {
			v.Token = "the-right-one"
			t.Cleanup(func() { v.Token = "" })
			return newResolver(t, v, &recordingCred{token: "wrong"}, Options{})
		}, 401, "could not sign in", nil},
		{"loopback vault outside local development", v.SecretURL("crm-db"), func(t *testing.T) *Resolver {
			return New(&recordingCred{token: "t"}, &Options{ClientOptions: azcore.ClientOptions{Transport: v.Client()}})
		}, 0, "LOCAL_DEVELOPMENT=true", nil},
		{"not a secret URL", "https://example.com/x", func(t *testing.T) *Resolver { return newResolver(t, v, &recordingCred{token: "t"}, Options{}) },
			0, "not a Key Vault host", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.setup(t)
			r.o.FailureTTL = -1
			_, err := r.Resolve(t.Context(), tt.url)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Resolve = %v, want an *Error", err)
			}
			if se.Status != tt.status || !strings.Contains(err.Error(), tt.say) || !strings.Contains(err.Error(), tt.url) {
				t.Fatalf("error %q (status %d): want status %d, naming %s and saying %q", err, se.Status, tt.status, tt.url, tt.say)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
			if strings.Contains(err.Error(), "S3cr3t") {
				t.Fatalf("the error holds the value: %v", err)
			}
		})
	}
	// Forbidden for the whole vault (no role): the same advice.
	v.Deny(true)
	_, err := newResolver(t, v, &recordingCred{token: "t"}, Options{}).Resolve(t.Context(), v.SecretURL("crm-db"))
	if err == nil || !strings.Contains(err.Error(), "Key Vault Secrets User") {
		t.Fatalf("denied: %v", err)
	}
}

// Concurrent resolves of one secret make one request.
func TestResolveConcurrentOneRead(t *testing.T) {
	v := kvtest.New()
	defer v.Close()
	v.SetSecret("crm-db", conn)
	r := newResolver(t, v, &recordingCred{token: "t"}, Options{})
	var wg gosync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got, err := r.Resolve(t.Context(), v.SecretURL("crm-db")); err != nil || got != conn {
				t.Errorf("Resolve = %q, %v", got, err)
			}
		})
	}
	wg.Wait()
	if n := v.Reads(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
}

// The double refuses what it does not implement instead of answering it.
func TestDoubleRefusesTheRest(t *testing.T) {
	v := kvtest.New()
	defer v.Close()
	for _, path := range []string{"/keys/k?api-version=2026-04-01", "/secrets?api-version=2026-04-01", "/secrets/x"} {
		resp, err := v.Client().Get(v.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 501 && resp.StatusCode != 400 {
			t.Errorf("%s: %d, want a refusal", path, resp.StatusCode)
		}
	}
}
