// Package secrets reads destination connection strings from Azure Key Vault
// secrets, as the Data Export Service did, with azsecrets and the app's
// identity (managed identity in Azure). Values are cached briefly in memory
// and are never part of an error or a log line.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"golang.org/x/sync/singleflight"

	"github.com/dataexport/dataexport/internal/profile"
)

// DefaultTTL is how long a secret value is reused before it is read again:
// short, so that a rotated connection string is picked up within minutes.
const DefaultTTL = 2 * time.Minute

// DefaultFailureTTL is how long a failed read is remembered.
const DefaultFailureTTL = 10 * time.Second

// Options configure a Resolver. The zero value is usable.
type Options struct {
	// TTL is how long a value is cached (0: DefaultTTL; negative: not cached).
	TTL time.Duration
	// FailureTTL is how long a failure is returned again without a new
	// request (0: DefaultFailureTTL; negative: never), so that a missing
	// secret does not cost a Key Vault request per message.
	FailureTTL time.Duration
	// ClientOptions are given to every azsecrets client (transport, retries).
	ClientOptions azcore.ClientOptions
	// AllowLoopback accepts secret URLs on 127.0.0.1, [::1] or localhost (a
	// Key Vault double, local development only) and, for those hosts alone,
	// turns off the check that the authentication challenge names a Key
	// Vault domain, which a local host can never satisfy.
	AllowLoopback bool
	Now           func() time.Time
}

// Resolver reads secret values by their Key Vault secret URL.
type Resolver struct {
	cred  azcore.TokenCredential
	o     Options
	group singleflight.Group

	mu      gosync.Mutex
	clients map[string]*azsecrets.Client // by vault URL
	cache   map[string]cached            // by secret URL
}

type cached struct {
	value string
	err   error
	at    time.Time
}

// New returns a Resolver that signs in with cred (nil: no sign-in, for a
// double that asks for none).
func New(cred azcore.TokenCredential, o *Options) *Resolver {
	r := &Resolver{cred: cred, clients: map[string]*azsecrets.Client{}, cache: map[string]cached{}}
	if o != nil {
		r.o = *o
	}
	if r.o.TTL == 0 {
		r.o.TTL = DefaultTTL
	}
	if r.o.FailureTTL == 0 {
		r.o.FailureTTL = DefaultFailureTTL
	}
	if r.o.Now == nil {
		r.o.Now = time.Now
	}
	return r
}

// Error is a failure to read a secret. It names the secret URL and says why,
// never with the value.
type Error struct {
	URL    string
	Status int    // HTTP status from Key Vault; 0 when none came back
	Code   string // Key Vault's error code (SecretNotFound, Forbidden, ...)
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Key Vault secret %s: ", e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Code != "" {
			fmt.Fprintf(&b, " (%s)", e.Code)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// ErrNotFound: the secret (or that version of it) does not exist.
var ErrNotFound = errors.New("secret not found")

func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// Resolve returns the value of the secret at secretURL, from the cache
// when it was read less than TTL ago. Concurrent calls for one secret make
// one request.
func (r *Resolver) Resolve(ctx context.Context, secretURL string) (string, error) {
	u, err := profile.ParseSecretURL(secretURL)
	if err != nil {
		return "", &Error{URL: secretURL, Reason: err.Error()}
	}
	if u.Loopback && !r.o.AllowLoopback {
		return "", &Error{URL: secretURL, Reason: "a vault on a loopback address is accepted only for local development (LOCAL_DEVELOPMENT=true)"}
	}
	key := u.String()
	r.mu.Lock()
	c, ok := r.cache[key]
	r.mu.Unlock()
	if ok && c.err == nil && r.o.Now().Sub(c.at) < r.o.TTL {
		return c.value, nil
	}
	if ok && c.err != nil && r.o.Now().Sub(c.at) < r.o.FailureTTL {
		return "", c.err
	}
	v, err, _ := r.group.Do(key, func() (any, error) {
		value, err := r.get(ctx, u)
		if (err == nil && r.o.TTL > 0) || (err != nil && r.o.FailureTTL > 0 && ctx.Err() == nil) {
			r.mu.Lock()
			r.cache[key] = cached{value: value, err: err, at: r.o.Now()}
			r.mu.Unlock()
		}
		return value, err
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Forget drops a cached value, so that the next Resolve reads it again (a
// destination refused the connection string: it may have been rotated).
func (r *Resolver) Forget(secretURL string) {
	if u, err := profile.ParseSecretURL(secretURL); err == nil {
		r.mu.Lock()
		delete(r.cache, u.String())
		r.mu.Unlock()
	}
}

func (r *Resolver) get(ctx context.Context, u profile.SecretURL) (string, error) {
	client, err := r.client(u)
	if err != nil {
		return "", &Error{URL: u.String(), Reason: err.Error()}
	}
	resp, err := client.GetSecret(ctx, u.Name, u.Version, nil)
	if err != nil {
		return "", describe(u.String(), err)
	}
	if resp.Value == nil || *resp.Value == "" {
		return "", &Error{URL: u.String(), Reason: "the secret has no value; it must hold the destination connection string"}
	}
	return *resp.Value, nil
}

func (r *Resolver) client(u profile.SecretURL) (*azsecrets.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[u.VaultURL]; ok {
		return c, nil
	}
	c, err := azsecrets.NewClient(u.VaultURL, r.cred, &azsecrets.ClientOptions{
		ClientOptions:                        r.o.ClientOptions,
		DisableChallengeResourceVerification: u.Loopback && r.o.AllowLoopback,
	})
	if err != nil {
		return nil, err
	}
	r.clients[u.VaultURL] = c
	return c, nil
}

// describe turns an SDK error into an Error that says what to do. The SDK's
// own text holds the full response; only its status and code are kept.
func describe(url string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return &Error{URL: url, Reason: "cannot read it: " + oneLine(err.Error())}
	}
	e := &Error{URL: url, Status: re.StatusCode, Code: re.ErrorCode}
	switch re.StatusCode {
	case http.StatusUnauthorized:
		e.Reason = "the app's identity could not sign in to Key Vault"
	case http.StatusForbidden:
		e.Reason = "the app's identity may not read this secret (give it the Key Vault Secrets User role on the vault), or the secret is disabled"
	case http.StatusNotFound:
		e.Reason = "no such secret or version in this vault"
	default:
		e.Reason = "Key Vault did not answer the request"
	}
	return e
}

// oneLine keeps the first line of a transport error (the SDK appends the
// request details on later lines).
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
