package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// servePprof serves the Go profiler on DATAEXPORT_PPROF (host:port) when it
// is set: the pipeline benchmark profiles `dataexport run` (and the
// emulator, for the source's share) through it. Not
// for production: it exposes the process's internals.
func servePprof(log *slog.Logger) {
	addr := os.Getenv("DATAEXPORT_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			log.Warn("profiler not served", "addr", addr, "err", err)
		}
	}()
	log.Info("profiler listening", "addr", addr)
}
