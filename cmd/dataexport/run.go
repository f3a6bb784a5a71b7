package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/dataexport/dataexport/handlers"
	"github.com/dataexport/dataexport/internal/app"
	"github.com/dataexport/dataexport/internal/settings"
)

// cmdServe is what the Functions host starts (host.json customHandler).
func cmdServe(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	settingsFile := fs.String("settings", "local.settings.json", "settings file (used for values the environment does not set)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := settings.Load(*settingsFile)
	if err != nil {
		return err
	}
	c, err := app.Build(ctx, s, log)
	if err != nil {
		return err
	}
	defer c.Close()
	port := s.Or("FUNCTIONS_CUSTOMHANDLER_PORT", s.Or("FUNCTIONS_HTTPWORKER_PORT", "8080"))
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	log.Info("custom handler listening", "addr", ln.Addr().String())
	return serveHTTP(ctx, ln, c.Handler)
}

// cmdRun runs the handler and a standalone Functions host against it.
func cmdRun(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	settingsFile := fs.String("settings", "local.settings.json", "settings file (used for values the environment does not set)")
	functionsDir := fs.String("functions", "functions", "folder holding one folder per function with its function.json")
	hostJSON := fs.String("host", "host.json", "host.json to read queue and timeout settings from")
	apiAddr := fs.String("api-addr", "127.0.0.1:7071", "where the HTTP functions (the management API, /api/...) listen, as the Functions host's port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	servePprof(log)
	// The applier and the stand-in host must read the same host.json
	// (maxDequeueCount decides who keeps a failing message).
	if os.Getenv("HOST_JSON") == "" {
		if err := os.Setenv("HOST_JSON", *hostJSON); err != nil {
			return err
		}
	}
	s, err := settings.Load(*settingsFile)
	if err != nil {
		return err
	}
	if h := s.Get("HOST_JSON"); h != *hostJSON {
		return fmt.Errorf("run: --host %s and the HOST_JSON setting %s name different files; the applier and the host must read the same one", *hostJSON, h)
	}
	c, err := app.Build(ctx, s, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.PutSettingsProfile(ctx, s, log); err != nil {
		return err
	}
	h, _, stopHandler, err := c.StartLocal(ctx, s, *functionsDir, *hostJSON, log)
	if err != nil {
		return err
	}
	defer stopHandler()
	ln, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		return fmt.Errorf("run: the management API cannot listen on %s (--api-addr): %w", *apiAddr, err)
	}
	apiDone := make(chan error, 1)
	go func() { apiDone <- serveHTTP(ctx, ln, c.Front(h)) }()
	base := "http://" + ln.Addr().String() + "/api/"
	if auth, _ := app.APIAuth(s); auth.Enabled() {
		log.Info("management API listening", "url", base, "openapi", base+"openapi.json", "ui", "http://"+ln.Addr().String()+handlers.UIPath)
	} else {
		log.Warn("management API refused: no credential is configured; every call is answered 503 until ADMIN_API_KEY (or ADMIN_ENTRA_TENANT_ID and ADMIN_ENTRA_AUDIENCE) is set", "url", base)
	}
	log.Info("standalone host running; Ctrl-C stops it")
	err = h.Run(ctx)
	<-apiDone
	return err
}

func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}

// repoFile finds a project file (functions/, host.json) from the working
// directory or the folder of the executable.
func repoFile(name string) string {
	if _, err := os.Stat(name); err == nil {
		return name
	}
	if exe, err := os.Executable(); err == nil {
		for dir := filepath.Dir(exe); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return name
}
