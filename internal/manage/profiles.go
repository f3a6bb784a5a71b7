package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
)

// ProfileView is a stored profile as every face shows it: its document
// without the connection string, and what the store keeps about it.
type ProfileView struct {
	Name  string        `json:"name"`
	State profile.State `json:"state"`
	// ETag identifies this version; send it back in If-Match to update,
	// delete, activate or deactivate only this version.
	ETag string `json:"etag"`
	// UsesKeyVault is false for a profile holding its connection string
	// itself (local development, or saved before Key Vault was read).
	UsesKeyVault bool `json:"usesKeyVault"`
	// Profile is the document to edit and send back (PUT): the connection
	// string is never in it.
	Profile profile.Profile `json:"profile"`
	// ReadAgainInFull lists the entities an update made start over (the
	// destination changed).
	ReadAgainInFull []string `json:"readAgainInFull,omitempty"`
}

func view(p profile.Profile) ProfileView {
	v := ProfileView{Name: p.Name, State: p.EffectiveState(), ETag: p.ETag, UsesKeyVault: p.Destination.UsesKeyVault(), Profile: p}
	v.Profile.Destination.Connection = ""
	v.Profile.State, v.Profile.Revision, v.Profile.ETag = "", "", ""
	return v
}

// Validate checks a profile document without saving it: the form of every
// field, the deployment's policy (Key Vault, or a plain connection string
// only in local development), and that every entity exists in the org
// with change tracking enabled. It returns an *InvalidError naming each
// wrong field, or ErrUnavailable when the org cannot be read.
func (s *Service) Validate(ctx context.Context, p profile.Profile) error {
	return s.validate(ctx, p, p)
}

// validate checks p; sent is what the client sent (the policy applies to
// it, not to a connection string kept from the stored profile).
func (s *Service) validate(ctx context.Context, p, sent profile.Profile) error {
	static := p.Validate()
	flagged := map[string]bool{}
	for _, fe := range profile.FieldErrors(static) {
		flagged[fe.Pointer] = true
	}
	errs := []error{static, profile.CheckPolicy(sent, s.o.Policy)}
	if ents := s.checkEntities(ctx, p.Entities, flagged); ents != nil {
		if errors.Is(ents, ErrUnavailable) {
			if err := Invalid(errors.Join(errs...)); err != nil {
				return err
			}
			return ents
		}
		errs = append(errs, ents)
	}
	return Invalid(errors.Join(errs...))
}

// checkEntities says, per entity, why it cannot be exported from the org:
// missing, or without change tracking.
// Entities whose pointer is flagged already are not checked again.
func (s *Service) checkEntities(ctx context.Context, entities []string, flagged map[string]bool) error {
	if len(entities) == 0 {
		return nil
	}
	cat, err := s.d.Source.Catalog(ctx)
	if err != nil {
		return fmt.Errorf("%w: the entities cannot be checked: reading the Dataverse org's tables: %v", ErrUnavailable, err)
	}
	byName := make(map[string]dataverse.CatalogEntity, len(cat.Entities))
	for _, e := range cat.Entities {
		byName[e.LogicalName] = e
	}
	var errs []error
	for i, name := range entities {
		ptr := fmt.Sprintf("/entities/%d", i)
		if flagged[ptr] {
			continue
		}
		if reason := eligibility(byName, name); reason != "" {
			errs = append(errs, &profile.FieldError{Pointer: ptr, Reason: reason})
		}
	}
	return errors.Join(errs...)
}

// activityWorkaround is the Data Export Service's advice for activitypointer.
const activityWorkaround = "the Activity table (activitypointer) cannot be exported; select the specific activity entities instead, such as phonecall, appointment, email and task"

// eligibility is why an entity cannot be exported ("" when it can).
func eligibility(byName map[string]dataverse.CatalogEntity, name string) string {
	if name == "activitypointer" {
		return activityWorkaround
	}
	e, ok := byName[name]
	switch {
	case !ok:
		return fmt.Sprintf("%q does not exist in the Dataverse org", name)
	case !e.ChangeTrackingEnabled:
		return fmt.Sprintf("%q does not have change tracking enabled; turn on Track changes in the table's properties in Dataverse, then add it", name)
	}
	return ""
}

// Get returns one profile.
func (s *Service) Get(ctx context.Context, name string) (ProfileView, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return ProfileView{}, err
	}
	return view(p), nil
}

func (s *Service) get(ctx context.Context, name string) (profile.Profile, error) {
	if err := checkName(name); err != nil {
		return profile.Profile{}, err
	}
	p, err := s.d.Profiles.GetProfile(ctx, name)
	return p, storeErr(name, err)
}

// checkName refuses a name no profile can have, before it reaches the store.
func checkName(name string) error {
	p := profile.Profile{Name: name}
	for _, fe := range profile.FieldErrors(p.Validate()) {
		if fe.Pointer == "/name" {
			return notFound(name)
		}
	}
	return nil
}

// List returns every profile, by name.
func (s *Service) List(ctx context.Context) ([]ProfileView, error) {
	ps, err := s.d.Profiles.ListProfiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ProfileView, len(ps))
	for i, p := range ps {
		out[i] = view(p)
	}
	return out, nil
}

// Create saves a new profile, Inactive unless activate is set (DES:
// Create, or Create and Activate). A profile of that name is refused with
// ErrExists. State left by a profile of the same name that was deleted is
// cleared first, so the new one starts with a full read.
func (s *Service) Create(ctx context.Context, p profile.Profile, activate bool) (ProfileView, error) {
	if err := s.Validate(ctx, p); err != nil {
		return ProfileView{}, err
	}
	if _, err := s.d.Profiles.GetProfile(ctx, p.Name); err == nil {
		return ProfileView{}, fmt.Errorf("profile %q: %w", p.Name, ErrExists)
	} else if err := storeErr(p.Name, err); !errors.Is(err, ErrNotFound) {
		return ProfileView{}, err
	}
	if _, err := s.d.States.DeletePartition(ctx, p.Name); err != nil {
		return ProfileView{}, fmt.Errorf("clearing the state left by an earlier profile %q: %w", p.Name, err)
	}
	if s.d.Metrics != nil {
		// An applier may have written a minute of the earlier profile after
		// it was deleted (a process writes its minute in progress when it
		// stops): the new profile's charts start empty.
		if _, err := s.d.Metrics.DeleteProfile(ctx, p.Name); err != nil {
			return ProfileView{}, fmt.Errorf("clearing the metrics left by an earlier profile %q: %w", p.Name, err)
		}
	}
	p.State = profile.Inactive
	if activate {
		p.State = profile.Active
	}
	created, err := s.d.Profiles.CreateProfile(ctx, p)
	if err != nil {
		return ProfileView{}, storeErr(p.Name, err)
	}
	s.o.Logger.Info("profile created", "profile", p.Name, "state", p.State, "entities", p.Entities, "destination", p.Destination.Type, "keyVault", p.Destination.UsesKeyVault())
	return view(created), nil
}

// Update replaces a profile's document. ifMatch, when not empty or "*",
// must be the ETag of the stored version (ErrStale otherwise), so that two
// administrators editing at once cannot lose an update. The name cannot
// change; the state is kept. A document without keyVaultSecretUrl or
// connection keeps the stored connection string of a profile that holds
// one (the document never shows it). When the destination moves (another
// database, schema or prefix), every entity starts over with a full read.
func (s *Service) Update(ctx context.Context, name string, p profile.Profile, ifMatch string) (ProfileView, error) {
	if p.Name == "" {
		p.Name = name
	}
	if p.Name != name {
		return ProfileView{}, &InvalidError{Fields: []*profile.FieldError{{Pointer: "/name", Reason: fmt.Sprintf("%q is not %q: a profile cannot be renamed; create a new one", p.Name, name)}}}
	}
	for attempt := 0; ; attempt++ {
		old, err := s.get(ctx, name)
		if err != nil {
			return ProfileView{}, err
		}
		if err := stale(name, old, ifMatch); err != nil {
			return ProfileView{}, err
		}
		next, sent := p, p
		d := &next.Destination
		if d.KeyVaultSecretURL == "" && d.Connection == "" && old.Destination.Connection != "" && d.Type == old.Destination.Type {
			d.Connection = old.Destination.Connection
		}
		if err := s.validate(ctx, next, sent); err != nil {
			return ProfileView{}, err
		}
		next.State = old.State
		moved := !old.SameDestination(next)
		var reset []string
		if moved {
			// Delta links describe the old database: forget them before the
			// save and again after it, so that a poll running meanwhile
			// cannot leave one behind.
			if reset, err = s.forgetStates(ctx, name); err != nil {
				return ProfileView{}, err
			}
		}
		etag := ifMatch
		if etag == "" || etag == "*" {
			etag = old.ETag
		}
		saved, err := s.d.Profiles.UpdateProfile(ctx, next, etag)
		if err != nil {
			err = storeErr(name, err)
			if errors.Is(err, ErrStale) && (ifMatch == "" || ifMatch == "*") && attempt < 3 {
				continue // changed between our read and write: do it again
			}
			return ProfileView{}, err
		}
		if moved {
			again, err := s.forgetStates(ctx, name)
			if err != nil {
				return ProfileView{}, err
			}
			reset = union(reset, again)
			s.o.Logger.Info("profile moved to another destination; its entities will be read again in full", "profile", name, "entities", reset)
		}
		v := view(saved)
		v.ReadAgainInFull = reset
		return v, nil
	}
}

func (s *Service) forgetStates(ctx context.Context, name string) ([]string, error) {
	sts, err := s.d.States.ListEntities(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("listing the entity states of %s: %w", name, err)
	}
	var out []string
	for _, st := range sts {
		out = append(out, st.Entity)
	}
	if _, err := s.d.States.DeletePartition(ctx, name); err != nil {
		return nil, fmt.Errorf("forgetting the entity states of %s: %w", name, err)
	}
	return out, nil
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	slices.Sort(a)
	return a
}

// stale checks a client's If-Match against the stored version.
func stale(name string, p profile.Profile, ifMatch string) error {
	if ifMatch == "" || ifMatch == "*" || ifMatch == p.ETag {
		return nil
	}
	return fmt.Errorf("profile %q: %w (If-Match %s, stored %s)", name, ErrStale, ifMatch, p.ETag)
}

// Activate starts polling a profile; it resumes each entity from its saved
// position (or starts its full read). Activating an Active profile changes
// nothing.
func (s *Service) Activate(ctx context.Context, name, ifMatch string) (ProfileView, error) {
	return s.setState(ctx, name, ifMatch, profile.Active)
}

// Deactivate stops polling a profile. Messages already on the queue are
// still applied (the applier does not look at the state), so nothing read
// is lost; the entities keep their positions for Activate.
func (s *Service) Deactivate(ctx context.Context, name, ifMatch string) (ProfileView, error) {
	return s.setState(ctx, name, ifMatch, profile.Inactive)
}

func (s *Service) setState(ctx context.Context, name, ifMatch string, to profile.State) (ProfileView, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return ProfileView{}, err
	}
	if err := stale(name, p, ifMatch); err != nil {
		return ProfileView{}, err
	}
	if p.EffectiveState() == to && p.State != "" {
		return view(p), nil
	}
	etag := p.ETag
	p.State = to
	saved, err := s.d.Profiles.UpdateProfile(ctx, p, etag)
	if err != nil {
		return ProfileView{}, storeErr(name, err)
	}
	s.o.Logger.Info("profile state changed", "profile", name, "state", to)
	return view(saved), nil
}

// DeleteResult says what Delete removed and kept.
type DeleteResult struct {
	Name string `json:"name"`
	// StateRowsDeleted counts the entity state and counters rows removed.
	StateRowsDeleted int `json:"stateRowsDeleted"`
	// FailureContainer is the failed-records container that was removed.
	FailureContainer string `json:"failureContainerDeleted"`
	// DestinationTablesKept is always true: as with the Data Export
	// Service, the destination's tables stay (see profile cleanup).
	DestinationTablesKept bool `json:"destinationTablesKept"`
}

// Delete removes a profile, its entity states and counters and its
// failed-record container, and never the destination's tables. The profile
// is deactivated first, so that no poll writes a state while it goes.
func (s *Service) Delete(ctx context.Context, name, ifMatch string) (DeleteResult, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return DeleteResult{}, err
	}
	if err := stale(name, p, ifMatch); err != nil {
		return DeleteResult{}, err
	}
	etag := p.ETag
	if p.IsActive() {
		p.State = profile.Inactive
		saved, err := s.d.Profiles.UpdateProfile(ctx, p, etag)
		if err != nil {
			return DeleteResult{}, storeErr(name, err)
		}
		etag = saved.ETag
	}
	res := DeleteResult{Name: name, FailureContainer: s.d.Failures.ContainerName(name), DestinationTablesKept: true}
	if res.StateRowsDeleted, err = s.d.States.DeletePartition(ctx, name); err != nil {
		return res, fmt.Errorf("deleting the entity states of %s (the profile is deactivated; delete it again): %w", name, err)
	}
	if err := s.d.Failures.Purge(ctx, name); err != nil {
		return res, fmt.Errorf("deleting the failed records of %s (the profile is deactivated; delete it again): %w", name, err)
	}
	if s.d.Metrics != nil {
		if _, err := s.d.Metrics.DeleteProfile(ctx, name); err != nil {
			return res, fmt.Errorf("deleting the metrics of %s (the profile is deactivated; delete it again): %w", name, err)
		}
	}
	if err := s.d.Profiles.DeleteProfileIf(ctx, name, etag); err != nil {
		return res, storeErr(name, err)
	}
	// A poll that started before the deactivation may have saved a state
	// since: clear again, now that no poll can start.
	n, err := s.d.States.DeletePartition(ctx, name)
	res.StateRowsDeleted += n
	if err != nil {
		return res, fmt.Errorf("deleting the entity states of %s: %w", name, err)
	}
	s.o.Logger.Info("profile deleted; destination tables kept", "profile", name, "stateRows", res.StateRowsDeleted, "failureContainer", res.FailureContainer)
	return res, nil
}

// Describe is a one-line description of a profile for logs and the CLI.
func Describe(v ProfileView) string {
	dest := v.Profile.Destination.Type
	if v.UsesKeyVault {
		dest += " via " + v.Profile.Destination.KeyVaultSecretURL
	} else {
		dest += " (connection string in the profile)"
	}
	return fmt.Sprintf("%s [%s] %s → %s", v.Name, v.State, strings.Join(v.Profile.Entities, ","), dest)
}
