package destination

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"testing"

	"github.com/dataexport/dataexport/internal/profile"
)

// fakeSecrets serves connection strings by secret URL.
type fakeSecrets struct {
	mu      gosync.Mutex
	values  map[string]string
	forgot  []string
	resolve int
}

func (f *fakeSecrets) Resolve(_ context.Context, u string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolve++
	v, ok := f.values[u]
	if !ok {
		return "", errors.New("Key Vault secret " + u + ": 404 Not Found")
	}
	return v, nil
}

func (f *fakeSecrets) Forget(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgot = append(f.forgot, u)
}

func (f *fakeSecrets) set(u, v string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[u] = v
}

const secretURL = "https://contoso-kv.vault.azure.net/secrets/crm-db"

func vaultProf() profile.Profile {
	return profile.Profile{Name: "kv", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.Postgres, KeyVaultSecretURL: secretURL}}
}

// A profile naming a Key Vault secret opens with the value read from it; a
// rotated value opens a new sink; a refused one is forgotten, so that the
// next open reads the secret again.
func TestPoolReadsTheSecret(t *testing.T) {
	d := newFakeDial()
	sec := &fakeSecrets{values: map[string]string{secretURL: "postgres://h/db1"}}
	pl := newFakePool(t, Options{Secrets: sec, FailureTTL: -1}, d)
	s1, err := pl.Sink(t.Context(), vaultProf())
	if err != nil {
		t.Fatal(err)
	}
	if got := s1.(*fakeSink).conn; got != "postgres://h/db1" {
		t.Fatalf("opened with %q", got)
	}
	again, err := pl.Sink(t.Context(), vaultProf())
	if err != nil || again != s1 {
		t.Fatalf("second Sink = %v, %v; want the same sink", again, err)
	}
	sec.set(secretURL, "postgres://h/db1?rotated")
	s2, err := pl.Sink(t.Context(), vaultProf())
	if err != nil || s2 == s1 || s2.(*fakeSink).conn != "postgres://h/db1?rotated" {
		t.Fatalf("after rotation: %v, %v; want a new sink with the new value", s2, err)
	}

	d.mu.Lock()
	d.fail["postgres://h/bad"] = errors.New("password authentication failed")
	d.mu.Unlock()
	sec.set(secretURL, "postgres://h/bad")
	if _, err := pl.Sink(t.Context(), vaultProf()); err == nil {
		t.Fatal("a refused connection string opened")
	}
	if len(sec.forgot) != 1 || sec.forgot[0] != secretURL {
		t.Fatalf("forgot %v, want the secret URL once", sec.forgot)
	}
}

func TestPoolSecretErrors(t *testing.T) {
	d := newFakeDial()
	p := vaultProf()
	p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/missing"
	pl := newFakePool(t, Options{Secrets: &fakeSecrets{values: map[string]string{}}}, d)
	_, err := pl.Sink(t.Context(), p)
	if err == nil || !strings.Contains(err.Error(), "profile kv") || !strings.Contains(err.Error(), "secrets/missing") {
		t.Fatalf("Sink = %v; want an error naming profile and secret", err)
	}
	noVault := newFakePool(t, Options{}, d)
	if _, err := noVault.Sink(t.Context(), vaultProf()); err == nil || !strings.Contains(err.Error(), "no Key Vault client") {
		t.Fatalf("without a resolver: %v", err)
	}
	if len(d.calls) != 0 {
		t.Fatalf("dialled %v without a connection string", d.calls)
	}
}
