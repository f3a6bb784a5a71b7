// Package failures keeps what could not be applied, in the Data Export
// Service's blob layout: one container per profile (so a read-only SAS URL
// shows one profile's failures and nothing else) holding
//
//	data/<entity>/...                       failed record payloads (read back for resync)
//	metadata/<entity>/...                   failed metadata notifications
//	failurelog/YYYY/MM/DD/HH/...            one DES-format log line per failure
//	forcerefreshfailurelog/YYYY/MM/DD/HH/...  failures of a "resync failed records" run
//	unprocessablemessages/YYYY/MM/DD/HH/... messages that could not even be understood
//
// Every blob carries the index tag RetentionTag, by which a storage lifecycle
// rule (infra/main.bicep) deletes it after 30 days, as DES did.
package failures

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// Folders inside a profile's container.
const (
	DataFolder          = "data/"
	MetadataFolder      = "metadata/"
	FailureLogFolder    = "failurelog/"
	ResyncLogFolder     = "forcerefreshfailurelog/"
	UnprocessableFolder = "unprocessablemessages/"
)

// DefaultContainerPrefix starts every failures container name.
const DefaultContainerPrefix = "failed-"

// Options configures a Store. Zero values use the defaults.
type Options struct {
	// ContainerPrefix defaults to DefaultContainerPrefix; lowercase letters,
	// digits and single hyphens only, at most 20 characters.
	ContainerPrefix string
	// Now defaults to time.Now; tests pin it.
	Now func() time.Time
}

// Store writes and reads failed records.
type Store struct {
	c       *azblob.Client
	prefix  string
	now     func() time.Time
	created sync.Map // container name -> struct{}: skips repeat CreateContainer calls
}

// NewStore returns a Store over c. Containers are created on first write.
func NewStore(c *azblob.Client, o *Options) (*Store, error) {
	if c == nil {
		return nil, errors.New("failures: nil blob client")
	}
	s := &Store{c: c, prefix: DefaultContainerPrefix, now: time.Now}
	if o != nil {
		if o.ContainerPrefix != "" {
			if !validPrefix(o.ContainerPrefix) {
				return nil, fmt.Errorf("failures: container prefix %q: lowercase letters, digits and single hyphens, 1-20 characters", o.ContainerPrefix)
			}
			s.prefix = o.ContainerPrefix
		}
		if o.Now != nil {
			s.now = o.Now
		}
	}
	return s, nil
}

// ContainerName is the container holding a profile's failures.
func (s *Store) ContainerName(profile string) string { return containerName(s.prefix, profile) }

// unassigned names the container for messages whose profile is unknown.
const unassigned = "unassigned"

// containerName maps a profile name onto the container rules (3-63 chars of
// [a-z0-9-], no leading, trailing or doubled hyphen). Lowercasing and
// replacing '_' could make two profiles collide ("A_b" and "a-b"), so a short
// hash of the exact name is appended.
func containerName(prefix, profile string) string {
	if profile == "" {
		return prefix + unassigned
	}
	var b strings.Builder
	for _, r := range strings.ToLower(profile) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteByte('-')
			}
		}
	}
	sum := sha256.Sum256([]byte(profile))
	tag := hex.EncodeToString(sum[:4])
	room := 63 - len(prefix) - 1 - len(tag)
	base := strings.Trim(b.String(), "-")
	if len(base) > room {
		base = strings.TrimRight(base[:room], "-")
	}
	if base == "" {
		return prefix + tag
	}
	return prefix + base + "-" + tag
}

func validPrefix(p string) bool {
	if len(p) > 20 || p[0] == '-' || strings.Contains(p, "--") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Store) ensureContainer(ctx context.Context, name string) error {
	if _, ok := s.created.Load(name); ok {
		return nil
	}
	_, err := s.c.CreateContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("failures: creating container %q: %w", name, err)
	}
	s.created.Store(name, struct{}{})
	return nil
}

// Purge deletes a profile's container and everything in it (DES removed the
// failure logs with the profile). A missing container is fine.
func (s *Store) Purge(ctx context.Context, profile string) error {
	name := s.ContainerName(profile)
	s.created.Delete(name)
	_, err := s.c.DeleteContainer(ctx, name, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerNotFound) {
		return fmt.Errorf("failures: deleting container %q: %w", name, err)
	}
	return nil
}
