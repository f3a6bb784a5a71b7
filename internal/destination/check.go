package destination

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink/postgres"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/sink/sqlserver"
)

// CheckResult is what Check found about a destination.
type CheckResult struct {
	// Reachable is nil when the destination accepted a connection.
	Reachable error
	// Missing lists the permissions the login lacks.
	Missing []string
	// PermissionsErr: the permission check itself failed.
	PermissionsErr error
	// PermissionsNote says why there is nothing to check, when so.
	PermissionsNote string
}

// Check connects to p's destination (its connection string filled in) and
// lists what its login lacks: on SQL Server the Data Export Service's
// permission list, on PostgreSQL the equivalent grants. PostgreSQL is
// checked without creating anything; SQL Server and SQLite are opened as
// the sink opens them (their own tables are created, as on the first
// poll). Errors never hold a secret of the connection string.
func Check(ctx context.Context, p profile.Profile, log *slog.Logger) CheckResult {
	conn := p.Destination.Connection
	if conn == "" {
		return CheckResult{Reachable: fmt.Errorf("the %s destination has no connection string", p.Destination.Type)}
	}
	if log == nil {
		log = slog.Default()
	}
	var r CheckResult
	switch p.Destination.Type {
	case profile.Postgres:
		missing, err := postgres.MissingPermissions(ctx, conn, p.Schema)
		if err != nil {
			r.Reachable = redact(err, conn, "postgres sink: ")
			return r
		}
		for _, m := range missing {
			r.Missing = append(r.Missing, m.String())
		}
	case profile.SQLServer:
		o := sinkOptions(p, log)
		s, err := sqlserver.Open(ctx, conn, o)
		if err != nil {
			r.Reachable = redact(err, conn, "sqlserver sink: ")
			return r
		}
		defer s.Close()
		missing, err := s.MissingPermissions(ctx)
		if err != nil {
			r.PermissionsErr = redact(err, conn, "")
		}
		for _, m := range missing {
			r.Missing = append(r.Missing, m.String())
		}
	case profile.SQLite:
		s, err := sqlite.Open(ctx, conn, sinkOptions(p, log))
		if err != nil {
			r.Reachable = redact(err, conn, "sqlite sink: ")
			return r
		}
		s.Close()
		r.PermissionsNote = "a SQLite file has no logins or grants; it opened for writing"
	default:
		r.Reachable = fmt.Errorf("unknown destination type %q", p.Destination.Type)
	}
	return r
}
