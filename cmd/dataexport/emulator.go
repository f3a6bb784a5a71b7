package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"

	"github.com/dataexport/dataexport/internal/dvemu"
)

// cmdEmulator serves the Dataverse Web API emulator.
func cmdEmulator(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: dataexport emulator [flags]\n\n"+
			"Serves the Dataverse Web API emulator. Flags left at 0 or empty take the\n"+
			"emulator's defaults, given in brackets.\n\nflags:\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:7070", "listen address")
	emuFlags := dvemu.NewFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage; not a failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("emulator: unexpected argument %q", fs.Arg(0))
	}
	servePprof(log)
	opts, err := emuFlags.Options()
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	emu, err := dvemu.New(opts)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	log.Info("Dataverse emulator listening", "url", "http://"+ln.Addr().String(), "webapi", "/api/data/v9.2/", "admin", "/_emulator/",
		"records", opts.Records, "rand_seed", opts.RandSeed)
	if opts.Faults != (dvemu.Faults{}) {
		log.Info("Dataverse emulator fault settings (0 = default)", "faults", fmt.Sprintf("%+v", opts.Faults))
	}
	return serveHTTP(ctx, ln, emu)
}
