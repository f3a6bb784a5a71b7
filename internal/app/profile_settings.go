package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/settings"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// ProfileFromSettings is the Export Profile the app settings declare, so
// that `dataexport run` (or a deployment) replicates an org into a database
// from settings alone: PROFILE_NAME, PROFILE_ENTITIES (comma list),
// DESTINATION_TYPE, DESTINATION_CONNECTION, and optionally PROFILE_SCHEMA,
// PROFILE_PREFIX, PROFILE_WRITE_DELETE_LOG. ok is false when PROFILE_NAME
// is not set (profiles are then managed with `dataexport profile`). Errors
// name the setting and never quote the connection string.
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
			Type:       s.Get("DESTINATION_TYPE"),
			Connection: s.Get("DESTINATION_CONNECTION"),
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
		return p, false, fmt.Errorf("the profile of app settings PROFILE_NAME, PROFILE_ENTITIES, DESTINATION_TYPE, DESTINATION_CONNECTION, PROFILE_SCHEMA, PROFILE_PREFIX: %w", err)
	}
	return p, true, nil
}

// PutSettingsProfile saves the profile the settings declare, if any,
// replacing a stored profile of that name.
func (c *App) PutSettingsProfile(ctx context.Context, s *settings.Settings, log *slog.Logger) error {
	p, ok, err := ProfileFromSettings(s)
	if err != nil || !ok {
		return err
	}
	reset, err := dsync.SaveProfile(ctx, c.Store, c.Store, p)
	if err != nil {
		return err
	}
	r := p.Redacted()
	log.Info("profile from app settings saved", "profile", r.Name, "entities", r.Entities, "destination", r.Destination.Type, "readAgainInFull", reset)
	return nil
}
