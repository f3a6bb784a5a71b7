// Command dataexport replicates Dataverse tables into SQL.
//
//	dataexport serve      the Azure Functions custom handler (host.json starts it)
//	dataexport run        the same handler plus a standalone stand-in for the Functions host
//	dataexport emulator   the Dataverse Web API emulator
//	dataexport demo       emulator → SQLite on Azurite, end to end, with a summary
//	dataexport profile    Export Profiles: create, list, show, update, delete, activate, test, status, ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	slog.SetDefault(log)
	var err error
	switch os.Args[1] {
	case "serve":
		softMemoryLimit()
		err = cmdServe(ctx, os.Args[2:], log)
	case "run":
		softMemoryLimit()
		err = cmdRun(ctx, os.Args[2:], log)
	case "emulator":
		err = cmdEmulator(ctx, os.Args[2:], log)
	case "demo":
		err = cmdDemo(ctx, os.Args[2:], log)
	case "profile":
		err = cmdProfile(ctx, os.Args[2:], log)
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "dataexport: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the command printed its usage
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "dataexport:", err)
		os.Exit(1)
	}
}

// defaultMemoryLimit is the Go heap's soft limit of the handler when
// GOMEMLIMIT is not set. Why: the pages in flight (sync.DefaultPageBudget)
// are the live heap, about 12 MB each decoded and more while read or
// encoded; Go's default GC target lets the heap grow to twice the live
// heap between collections, so a worker's RSS swung between 100 and 160
// MB. Near the limit the GC collects sooner instead. At 100 MiB the
// runner's peak RSS in `make bench-pipeline` was 115-121 MiB against
// 129-148 MiB at 120 MiB, for the same CPU (9.1-9.2 s per 400,000 rows
// into PostgreSQL, two runs of each); a larger limit (GOMEMLIMIT=400MiB)
// trades memory back for CPU.
const defaultMemoryLimit = 100 << 20

func softMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: dataexport <command> [flags]

commands:
  serve      run the Azure Functions custom handler (port from FUNCTIONS_CUSTOMHANDLER_PORT)
  run        run the handler and a standalone Functions host (timers, Storage queue triggers,
             the management API on /api/ and the web UI on /api/ui/, behind ADMIN_API_KEY
             or Entra ID)
  emulator   run the Dataverse Web API emulator
  demo       replicate the emulator's sample org into SQLite through Azurite and check the result
  profile    manage Export Profiles: list | show | create | update | put | validate | delete
             | activate | deactivate | test | status | entities | failures | resync-failures | resync
             | reconcile | rebaseline | cleanup | cleanup-columns
             ("dataexport profile -h" for the details)

Settings come from the environment, then from local.settings.json (see local.settings.sample.json).
Run "dataexport <command> -h" for the flags of a command.
`)
}

func logLevel() slog.Level {
	var l slog.Level
	if v := os.Getenv("LOG_LEVEL"); v != "" && l.UnmarshalText([]byte(v)) == nil {
		return l
	}
	return slog.LevelInfo
}
