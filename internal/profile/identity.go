package profile

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/microsoft/go-mssqldb/msdsn"
)

// Identity is the database a destination writes to, read from its
// connection string without its secrets: what decides whether the entity
// states (delta links) still describe the destination.
type Identity struct {
	Type     string
	Host     string // lowercase; "" for SQLite
	Port     string
	Instance string // SQL Server named instance, lowercase
	Database string // SQLite: the cleaned file path
}

// Identity parses the connection string with the dialect's own parser and
// keeps host, port, instance and database; user, password, timeouts and
// TLS settings are not part of it. ok is false when the string cannot be
// parsed (nothing of it is returned then).
func (d Destination) Identity() (id Identity, ok bool) {
	id.Type = d.Type
	switch d.Type {
	case SQLite:
		if strings.TrimSpace(d.Connection) == "" {
			return Identity{}, false
		}
		id.Database = filepath.Clean(d.Connection)
		return id, true
	case Postgres:
		cfg, err := pgconn.ParseConfig(d.Connection)
		if err != nil {
			return Identity{}, false
		}
		id.Host, id.Port, id.Database = strings.ToLower(cfg.Host), strconv.Itoa(int(cfg.Port)), cfg.Database
		return id, true
	case SQLServer:
		cfg, err := msdsn.Parse(d.Connection)
		if err != nil {
			return Identity{}, false
		}
		// SQL Server compares names case-insensitively (the default
		// collations): Sales and sales are one database.
		id.Host, id.Instance, id.Database = strings.ToLower(cfg.Host), strings.ToLower(cfg.Instance), strings.ToLower(cfg.Database)
		if cfg.Port != 0 {
			id.Port = strconv.FormatUint(cfg.Port, 10)
		}
		return id, true
	}
	return Identity{}, false
}
