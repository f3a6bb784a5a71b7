package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/go-json-experiment/json"

	"github.com/dataexport/dataexport/internal/profile"
)

// All profiles share one partition: there are few of them, and listing is
// then a single-partition query.
const profilesPartition = "profiles"

// profileRow is a profile as stored: the profile document as JSON in one
// property, so adding a profile field needs no table change, and beside it
// what the store keeps about it. Rows written before State and Revision
// existed lack them (see decodeProfile).
type profileRow struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Profile      string `json:"Profile"`
	State        string `json:"State,omitempty"`
	Revision     string `json:"Revision,omitempty"`
	// ODataETag is only read: list responses carry the ETag in the body.
	ODataETag string `json:"odata.etag,omitempty"`
}

// newRevision is a random profile revision: messages carry it, so it must
// say nothing about the profile's content (which holds a secret).
func newRevision() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// encodeProfile validates p and builds its row with a new revision.
func encodeProfile(p profile.Profile) ([]byte, string, error) {
	if err := p.Validate(); err != nil {
		return nil, "", fmt.Errorf("state: saving profile: %w", err)
	}
	if err := checkKey("profile name", p.Name); err != nil {
		return nil, "", err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, "", fmt.Errorf("state: encoding profile %q: %w", p.Name, err)
	}
	if err := checkProperty(fmt.Sprintf("profile %q", p.Name), string(body)); err != nil {
		return nil, "", err
	}
	rev := newRevision()
	row, err := json.Marshal(profileRow{PartitionKey: profilesPartition, RowKey: p.Name, Profile: string(body), State: string(p.State), Revision: rev})
	if err != nil {
		return nil, "", fmt.Errorf("state: encoding profile %q: %w", p.Name, err)
	}
	return row, rev, nil
}

// PutProfile validates p and then creates or replaces it, whatever was
// stored. The management service uses CreateProfile and UpdateProfile.
func (s *Store) PutProfile(ctx context.Context, p profile.Profile) error {
	row, _, err := encodeProfile(p)
	if err != nil {
		return err
	}
	if _, err := s.profiles.UpsertEntity(ctx, row, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
		return fmt.Errorf("state: saving profile %q: %w", p.Name, err)
	}
	return nil
}

// CreateProfile adds p, or returns ErrExists when a profile of that name is
// stored. It returns p as stored (ETag, Revision).
func (s *Store) CreateProfile(ctx context.Context, p profile.Profile) (profile.Profile, error) {
	row, rev, err := encodeProfile(p)
	if err != nil {
		return profile.Profile{}, err
	}
	resp, err := s.profiles.AddEntity(ctx, row, nil)
	if HasCode(err, aztables.EntityAlreadyExists) {
		return profile.Profile{}, fmt.Errorf("profile %q: %w", p.Name, ErrExists)
	}
	if err != nil {
		return profile.Profile{}, fmt.Errorf("state: adding profile %q: %w", p.Name, err)
	}
	p.Revision, p.ETag = rev, string(resp.ETag)
	return p, nil
}

// UpdateProfile replaces the stored profile p.Name if its ETag is still
// ifMatch ("" or "*": whatever is stored). It returns ErrNotFound when
// there is none and ErrPreconditionFailed when it changed since.
func (s *Store) UpdateProfile(ctx context.Context, p profile.Profile, ifMatch string) (profile.Profile, error) {
	row, rev, err := encodeProfile(p)
	if err != nil {
		return profile.Profile{}, err
	}
	etag := azcore.ETagAny
	if ifMatch != "" {
		etag = azcore.ETag(ifMatch)
	}
	resp, err := s.profiles.UpdateEntity(ctx, row, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
	switch {
	case HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound):
		return profile.Profile{}, fmt.Errorf("profile %q: %w", p.Name, ErrNotFound)
	case HasCode(err, aztables.UpdateConditionNotSatisfied):
		return profile.Profile{}, fmt.Errorf("profile %q: %w", p.Name, ErrPreconditionFailed)
	case err != nil:
		return profile.Profile{}, fmt.Errorf("state: updating profile %q: %w", p.Name, err)
	}
	p.Revision, p.ETag = rev, string(resp.ETag)
	return p, nil
}

// GetProfile returns the named profile, or ErrNotFound.
func (s *Store) GetProfile(ctx context.Context, name string) (profile.Profile, error) {
	if err := checkKey("profile name", name); err != nil {
		return profile.Profile{}, err
	}
	resp, err := s.profiles.GetEntity(ctx, profilesPartition, name, nil)
	if HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
		return profile.Profile{}, fmt.Errorf("profile %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return profile.Profile{}, fmt.Errorf("state: reading profile %q: %w", name, err)
	}
	return decodeProfile(resp.Value, string(resp.ETag))
}

// ListProfiles returns every profile, ordered by name.
func (s *Store) ListProfiles(ctx context.Context) ([]profile.Profile, error) {
	pager := s.profiles.NewListEntitiesPager(&aztables.ListEntitiesOptions{
		Filter: to.Ptr("PartitionKey eq '" + profilesPartition + "'"),
	})
	var out []profile.Profile
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("state: listing profiles: %w", err)
		}
		for _, raw := range page.Entities {
			p, err := decodeProfile(raw, "")
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// DeleteProfile removes the named profile, or returns ErrNotFound. Entity
// state rows are left to the caller (see DeletePartition).
func (s *Store) DeleteProfile(ctx context.Context, name string) error {
	return s.DeleteProfileIf(ctx, name, "")
}

// DeleteProfileIf removes the named profile if its ETag is still ifMatch
// ("" or "*": whatever is stored); ErrNotFound when there is none,
// ErrPreconditionFailed when it changed since.
func (s *Store) DeleteProfileIf(ctx context.Context, name, ifMatch string) error {
	if err := checkKey("profile name", name); err != nil {
		return err
	}
	var o *aztables.DeleteEntityOptions
	if ifMatch != "" {
		etag := azcore.ETag(ifMatch)
		o = &aztables.DeleteEntityOptions{IfMatch: &etag}
	}
	_, err := s.profiles.DeleteEntity(ctx, profilesPartition, name, o)
	switch {
	case HasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound):
		return fmt.Errorf("profile %q: %w", name, ErrNotFound)
	case HasCode(err, aztables.UpdateConditionNotSatisfied):
		return fmt.Errorf("profile %q: %w", name, ErrPreconditionFailed)
	case err != nil:
		return fmt.Errorf("state: deleting profile %q: %w", name, err)
	}
	return nil
}

// decodeProfile reads a stored row. Field names match exactly; fields this
// version does not know are ignored (a newer version may have written the
// row). A row without a Revision (written before revisions existed) takes
// its ETag as revision.
func decodeProfile(raw []byte, etag string) (profile.Profile, error) {
	var row profileRow
	if err := json.Unmarshal(raw, &row); err != nil {
		return profile.Profile{}, fmt.Errorf("state: decoding profile row: %w", err)
	}
	var p profile.Profile
	if err := json.Unmarshal([]byte(row.Profile), &p); err != nil {
		return profile.Profile{}, fmt.Errorf("state: decoding profile %q: %w", row.RowKey, err)
	}
	if etag == "" {
		etag = row.ODataETag
	}
	p.State, p.Revision, p.ETag = profile.State(row.State), row.Revision, etag
	if p.Revision == "" {
		p.Revision = etag
	}
	return p, nil
}
