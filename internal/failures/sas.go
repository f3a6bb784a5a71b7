package failures

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// DefaultURLLifetime is how long DES's "Copy Blob URL" stayed valid.
const DefaultURLLifetime = 24 * time.Hour

// maxURLLifetime is the longest a user delegation key may live.
const maxURLLifetime = 7 * 24 * time.Hour

// clockSkew back-dates the start so a caller whose clock runs behind the
// service's can use the URL at once.
const clockSkew = 5 * time.Minute

// ReadOnlyURL returns a URL that lets its holder list and read one profile's
// failures, and nothing else, for ttl (0: DefaultURLLifetime; at most 7
// days). It is signed with the account key when the client has one and with
// a user delegation key (identity auth; needs a role with
// generateUserDelegationKey, e.g. Storage Blob Data Owner) otherwise.
// The URL is a bearer secret: hand it to the user, never log it.
func (s *Store) ReadOnlyURL(ctx context.Context, profile string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = DefaultURLLifetime
	}
	ttl = min(ttl, maxURLLifetime)
	name := s.ContainerName(profile)
	// An empty container still gives a working URL (showing no failures).
	if err := s.ensureContainer(ctx, name); err != nil {
		return "", err
	}
	now := s.now().UTC()
	start, expiry := now.Add(-clockSkew), now.Add(ttl)
	perms := sas.ContainerPermissions{Read: true, List: true}
	cc := s.c.ServiceClient().NewContainerClient(name)

	u, err := cc.GetSASURL(perms, expiry, &container.GetSASURLOptions{StartTime: &start})
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, bloberror.MissingSharedKeyCredential) {
		return "", fmt.Errorf("failures: signing a URL for %q: %w", name, err)
	}
	cred, err := s.c.ServiceClient().GetUserDelegationCredential(ctx, service.KeyInfo{
		Start:  to.Ptr(start.Format(sas.TimeFormat)),
		Expiry: to.Ptr(expiry.Format(sas.TimeFormat)),
	}, nil)
	if err != nil {
		return "", fmt.Errorf("failures: getting a user delegation key for %q: %w", name, err)
	}
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     start,
		ExpiryTime:    expiry,
		Permissions:   perms.String(),
		ContainerName: name,
	}.SignWithUserDelegation(cred)
	if err != nil {
		return "", fmt.Errorf("failures: signing a URL for %q: %w", name, err)
	}
	return cc.URL() + "?" + qp.Encode(), nil
}
