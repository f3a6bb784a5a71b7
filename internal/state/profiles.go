package state

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/dataexport/dataexport/internal/profile"
)

// All profiles share one partition: there are few of them, and listing is
// then a single-partition query.
const profilesPartition = "profiles"

// profileRow is a profile as stored: the whole profile as JSON in one
// property, so adding a profile field needs no table change.
type profileRow struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Profile      string `json:"Profile"`
}

// PutProfile validates p and then creates or replaces it.
func (s *Store) PutProfile(ctx context.Context, p profile.Profile) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("state: saving profile: %w", err)
	}
	if err := checkKey("profile name", p.Name); err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("state: encoding profile %q: %w", p.Name, err)
	}
	if err := checkProperty(fmt.Sprintf("profile %q", p.Name), string(body)); err != nil {
		return err
	}
	row, err := json.Marshal(profileRow{PartitionKey: profilesPartition, RowKey: p.Name, Profile: string(body)})
	if err != nil {
		return fmt.Errorf("state: encoding profile %q: %w", p.Name, err)
	}
	if _, err := s.profiles.UpsertEntity(ctx, row, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
		return fmt.Errorf("state: saving profile %q: %w", p.Name, err)
	}
	return nil
}

// GetProfile returns the named profile, or ErrNotFound.
func (s *Store) GetProfile(ctx context.Context, name string) (profile.Profile, error) {
	if err := checkKey("profile name", name); err != nil {
		return profile.Profile{}, err
	}
	resp, err := s.profiles.GetEntity(ctx, profilesPartition, name, nil)
	if hasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
		return profile.Profile{}, fmt.Errorf("profile %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return profile.Profile{}, fmt.Errorf("state: reading profile %q: %w", name, err)
	}
	return decodeProfile(resp.Value)
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
			p, err := decodeProfile(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// DeleteProfile removes the named profile, or returns ErrNotFound. Entity
// state rows are left to the caller (see DeleteEntity).
func (s *Store) DeleteProfile(ctx context.Context, name string) error {
	if err := checkKey("profile name", name); err != nil {
		return err
	}
	_, err := s.profiles.DeleteEntity(ctx, profilesPartition, name, nil)
	if hasCode(err, aztables.EntityNotFound, aztables.ResourceNotFound) {
		return fmt.Errorf("profile %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("state: deleting profile %q: %w", name, err)
	}
	return nil
}

func decodeProfile(raw []byte) (profile.Profile, error) {
	var row profileRow
	if err := json.Unmarshal(raw, &row); err != nil {
		return profile.Profile{}, fmt.Errorf("state: decoding profile row: %w", err)
	}
	var p profile.Profile
	if err := json.Unmarshal([]byte(row.Profile), &p); err != nil {
		return profile.Profile{}, fmt.Errorf("state: decoding profile %q: %w", row.RowKey, err)
	}
	return p, nil
}
