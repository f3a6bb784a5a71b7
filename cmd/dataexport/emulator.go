package main

import (
	"context"
	"flag"
	"log/slog"
	"net"

	"github.com/dataexport/dataexport/internal/dvemu"
)

// cmdEmulator serves the Dataverse Web API emulator.
func cmdEmulator(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:7070", "listen address")
	records := fs.Int("records", 10, "rows generated per entity")
	seed := fs.Int64("seed", 1, "generator seed (same seed, same data)")
	token := fs.String("token", dvemu.DefaultToken, "bearer token clients must send")
	noAnnotations := fs.Bool("omit-lookup-annotations", false, "never return lookuplogicalname annotations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	emu, err := dvemu.New(dvemu.Options{Records: *records, RandSeed: *seed, Token: *token, OmitLookupAnnotations: *noAnnotations})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log.Info("Dataverse emulator listening", "url", "http://"+ln.Addr().String(), "webapi", "/api/data/v9.2/", "admin", "/_emulator/")
	return serveHTTP(ctx, ln, emu)
}
