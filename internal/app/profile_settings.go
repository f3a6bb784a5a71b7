package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/settings"
)

// ProfileFromSettings is the Export Profile the app settings declare, so
// that `dataexport run` (or a deployment) replicates an org into a database
// from settings alone: PROFILE_NAME, PROFILE_ENTITIES (comma list),
// DESTINATION_TYPE, DESTINATION_KEY_VAULT_SECRET_URL (or, in local
// development, DESTINATION_CONNECTION), and optionally PROFILE_SCHEMA,
// PROFILE_PREFIX, PROFILE_WRITE_DELETE_LOG. ok is false when PROFILE_NAME
// is not set (profiles are then managed with the API or `dataexport
// profile`). Errors name the setting and never quote the connection string.
func ProfileFromSettings(s *settings.Settings) (p profile.Profile, ok bool, err error) {
	name := s.Get("PROFILE_NAME")
	if name == "" {
		return p, false, nil
	}
	p = profile.Profile{
		Name:   name,
		Schema: s.Get("PROFILE_SCHEMA"),
		Prefix: s.Get("PROFILE_PREFIX"),
		Destination: profile.Destination{
			Type:              s.Get("DESTINATION_TYPE"),
			KeyVaultSecretURL: s.Get("DESTINATION_KEY_VAULT_SECRET_URL"),
			Connection:        s.Get("DESTINATION_CONNECTION"),
		},
	}
	for _, e := range strings.Split(s.Get("PROFILE_ENTITIES"), ",") {
		if e = strings.TrimSpace(e); e != "" {
			p.Entities = append(p.Entities, e)
		}
	}
	if v := s.Get("PROFILE_WRITE_DELETE_LOG"); v != "" {
		if p.WriteDeleteLog, err = strconv.ParseBool(v); err != nil {
			return p, false, fmt.Errorf("app setting PROFILE_WRITE_DELETE_LOG: %q is not true or false", v)
		}
	}
	if err := p.Validate(); err != nil {
		return p, false, fmt.Errorf("the profile of app settings PROFILE_NAME, PROFILE_ENTITIES, DESTINATION_TYPE, DESTINATION_KEY_VAULT_SECRET_URL or DESTINATION_CONNECTION, PROFILE_SCHEMA, PROFILE_PREFIX: %w", err)
	}
	return p, true, nil
}

// PutSettingsProfile saves the profile the settings declare, if any,
// through the management service: created Active when it is new, its
// document replaced (state kept) when it exists.
func (c *App) PutSettingsProfile(ctx context.Context, s *settings.Settings, log *slog.Logger) error {
	p, ok, err := ProfileFromSettings(s)
	if err != nil || !ok {
		return err
	}
	v, err := c.Manage.Create(ctx, p, true)
	if errors.Is(err, manage.ErrExists) {
		v, err = c.Manage.Update(ctx, p.Name, p, "")
	}
	if err != nil {
		return fmt.Errorf("the profile of app settings PROFILE_NAME, PROFILE_ENTITIES, DESTINATION_*: %w", err)
	}
	log.Info("profile from app settings saved", "profile", v.Name, "state", v.State, "entities", v.Profile.Entities, "destination", v.Profile.Destination.Type, "keyVault", v.UsesKeyVault, "readAgainInFull", v.ReadAgainInFull)
	return nil
}
