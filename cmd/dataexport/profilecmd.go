package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/dataexport/dataexport/internal/app"
	"github.com/dataexport/dataexport/internal/destination"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/settings"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// cmdProfile manages Export Profiles in Table storage. Output never shows a
// destination connection string.
func cmdProfile(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	settingsFile := fs.String("settings", "local.settings.json", "settings file")
	file := fs.String("file", "", "profile JSON (put)")
	apply := fs.Bool("apply", false, "cleanup-columns: drop the columns (without it, only list them)")
	if len(args) == 0 {
		return errors.New("profile: want put --file F | get NAME | list | delete NAME | rebaseline NAME ENTITY | cleanup NAME ENTITY | cleanup-columns [--apply] NAME ENTITY")
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	s, err := settings.Load(*settingsFile)
	if err != nil {
		return err
	}
	tables, err := aztables.NewServiceClientFromConnectionString(app.StorageConnection(s.Get("AzureWebJobsStorage")), nil)
	if err != nil {
		return fmt.Errorf("AzureWebJobsStorage: %w", err)
	}
	store, err := state.NewStore(ctx, tables, nil)
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	switch verb {
	case "put":
		b, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("profile put: %w", err)
		}
		var p profile.Profile
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields() // a misspelt field must not fall back to a default silently
		if err := dec.Decode(&p); err != nil {
			return fmt.Errorf("profile put: %s: %w", *file, err)
		}
		if err := p.Validate(); err != nil {
			return err
		}
		reset, err := dsync.SaveProfile(ctx, store, store, p)
		if err != nil {
			return err
		}
		if len(reset) > 0 {
			fmt.Fprintf(os.Stderr, "profile %s writes to a new destination: %v will be read again in full\n", p.Name, reset)
		}
		return out.Encode(p.Redacted())
	case "rebaseline", "cleanup":
		if fs.NArg() != 2 {
			return fmt.Errorf("profile %s: want a profile name and an entity", verb)
		}
		p, err := store.GetProfile(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		pool := destination.NewPool(log)
		defer pool.Close()
		if verb == "rebaseline" {
			err = dsync.Rebaseline(ctx, p, fs.Arg(1), store, pool)
		} else {
			err = dsync.Cleanup(ctx, p, fs.Arg(1), store, pool)
		}
		if err == nil {
			fmt.Printf("%s %s/%s: done\n", verb, p.Name, fs.Arg(1))
		}
		return err
	case "cleanup-columns":
		if fs.NArg() != 2 {
			return fmt.Errorf("profile %s: want a profile name and an entity", verb)
		}
		p, err := store.GetProfile(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		a, err := app.Build(ctx, s, log)
		if err != nil {
			return err
		}
		defer a.Close()
		cols, err := dsync.CleanupColumns(ctx, p, fs.Arg(1), a.Source, a.Pool, *apply)
		if err != nil {
			return err
		}
		switch {
		case len(cols) == 0:
			fmt.Printf("%s/%s: no columns of removed attributes\n", p.Name, fs.Arg(1))
		case *apply:
			fmt.Printf("%s/%s: dropped %v\n", p.Name, fs.Arg(1), cols)
		default:
			fmt.Printf("%s/%s: columns of removed attributes: %v (run again with --apply to drop them)\n", p.Name, fs.Arg(1), cols)
		}
		return nil
	case "get", "delete":
		if fs.NArg() != 1 {
			return fmt.Errorf("profile %s: want a profile name", verb)
		}
		if verb == "delete" {
			return store.DeleteProfile(ctx, fs.Arg(0))
		}
		p, err := store.GetProfile(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		return out.Encode(p.Redacted())
	case "list":
		ps, err := store.ListProfiles(ctx)
		if err != nil {
			return err
		}
		for i := range ps {
			ps[i] = ps[i].Redacted()
		}
		return out.Encode(ps)
	}
	return fmt.Errorf("profile: unknown verb %q (want put, get, list, delete, rebaseline, cleanup, cleanup-columns)", verb)
}
