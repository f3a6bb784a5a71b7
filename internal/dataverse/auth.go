package dataverse

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// StaticToken is a credential that always returns the same bearer token (for
// the emulator and tests).
type StaticToken string

// GetToken implements azcore.TokenCredential.
func (t StaticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(24 * time.Hour)}, nil
}

// Scope is the OAuth scope of an environment for confidential clients.
func Scope(orgURL string) string {
	return strings.TrimRight(orgURL, "/") + "/.default"
}

// tokenCache asks the credential only when the cached token nears expiry
// (credentials cache too, but this keeps the hot path lock-cheap).
type tokenCache struct {
	cred  azcore.TokenCredential
	scope string

	mu  sync.Mutex
	tok azcore.AccessToken
}

// refreshMargin renews tokens this long before they expire, so a token never
// expires between being read and being checked by the server.
const refreshMargin = 2 * time.Minute

func (c *tokenCache) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.tok.Token != "" && now.Add(refreshMargin).Before(c.tok.ExpiresOn) &&
		(c.tok.RefreshOn.IsZero() || now.Before(c.tok.RefreshOn)) {
		return c.tok.Token, nil
	}
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		// The credential's error may describe the tenant or client, never the secret.
		return "", fmt.Errorf("dataverse: get token for %s: %w", c.scope, err)
	}
	c.tok = tok
	return tok.Token, nil
}

// invalidate drops a token the server rejected, so the next call asks again.
func (c *tokenCache) invalidate(rejected string) {
	c.mu.Lock()
	if c.tok.Token == rejected {
		c.tok = azcore.AccessToken{}
	}
	c.mu.Unlock()
}
