package dataverse

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// countingCred hands out tokens in order and records the scope asked for.
type countingCred struct {
	tokens []string
	calls  atomic.Int32
	scope  atomic.Pointer[string]
}

func (c *countingCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	n := int(c.calls.Add(1)) - 1
	if len(o.Scopes) == 1 {
		c.scope.Store(&o.Scopes[0])
	}
	return azcore.AccessToken{Token: c.tokens[min(n, len(c.tokens)-1)], ExpiresOn: time.Now().Add(time.Hour)}, nil
}
