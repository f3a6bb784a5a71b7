// Package state keeps Export Profiles and per-entity sync state in Azure Table
// storage. Entity state is written with ETags so a poller that runs twice
// (the timer singleton is not a guarantee) loses cleanly instead of
// overwriting a newer checkpoint.
package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Options names the tables. Zero values use the defaults.
type Options struct {
	ProfilesTable string // default "profiles"
	EntitiesTable string // default "entitystate"; also holds the counters rows
}

// Default table names.
const (
	DefaultProfilesTable = "profiles"
	DefaultEntitiesTable = "entitystate"
)

// Store reads and writes profiles, entity state and counters.
type Store struct {
	profiles *aztables.Client
	entities *aztables.Client
}

// NewStore returns a Store over svc, creating the tables if they are missing.
func NewStore(ctx context.Context, svc *aztables.ServiceClient, o *Options) (*Store, error) {
	if svc == nil {
		return nil, errors.New("state: nil table service client")
	}
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.ProfilesTable == "" {
		opts.ProfilesTable = DefaultProfilesTable
	}
	if opts.EntitiesTable == "" {
		opts.EntitiesTable = DefaultEntitiesTable
	}
	for _, name := range []string{opts.ProfilesTable, opts.EntitiesTable} {
		if err := createTable(ctx, svc, name); err != nil {
			return nil, err
		}
	}
	return &Store{
		profiles: svc.NewClient(opts.ProfilesTable),
		entities: svc.NewClient(opts.EntitiesTable),
	}, nil
}

func createTable(ctx context.Context, svc *aztables.ServiceClient, name string) error {
	_, err := svc.CreateTable(ctx, name, nil)
	if err == nil || HasCode(err, aztables.TableAlreadyExists) {
		return nil
	}
	return fmt.Errorf("state: creating table %q: %w", name, err)
}

// HasCode reports whether err is a Table storage error with one of codes
// (the metrics store shares it).
func HasCode(err error, codes ...aztables.TableErrorCode) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	for _, c := range codes {
		if re.ErrorCode == string(c) {
			return true
		}
	}
	return false
}
