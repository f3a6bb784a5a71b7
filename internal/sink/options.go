package sink

import (
	"log/slog"

	"github.com/dataexport/dataexport/internal/schema"
)

// Options configures a sink. The zero value is the dialect's default schema
// (dbo, public, main), no table prefix and no delete log.
type Options struct {
	Schema string
	Prefix string
	// WriteDeleteLog records every delete in <Prefix>_DeleteLog, as DES did.
	WriteDeleteLog bool
	// Logger receives DDL and batch logs; nil means slog.Default().
	Logger *slog.Logger
	// MaxConnections bounds a server sink's connection pool; 0 means the
	// dialect's default. Embedded sinks use one connection.
	MaxConnections int
	// LabelView names each entity table's label view ({table} stands for
	// the table's name; empty: schema.DefaultLabelView), so that the view
	// goes with its table.
	LabelView string
}

// Names of the sink's own tables (without prefix).
const (
	TombstoneTable = "dataexport_tombstone"
	DeleteLogTable = "DeleteLog"
)

// TableOptions is how schema.Map names tables for this sink.
func (o Options) TableOptions() schema.Options {
	return schema.Options{Schema: o.Schema, Prefix: o.Prefix, LabelView: o.LabelView}
}

// LabelViewOf is the label view of table under o.
func (o Options) LabelViewOf(table schema.TableName) schema.TableName {
	return schema.LabelViewName(o.LabelView, table)
}

// Validate checks schema and prefix before any SQL is built.
func (o Options) Validate() error { return o.TableOptions().Validate() }

// Tombstones is the table holding the highest delete version per table and id.
func (o Options) Tombstones() schema.TableName { return o.TableOptions().TableName(TombstoneTable) }

// DeleteLog is the DES delete log table.
func (o Options) DeleteLog() schema.TableName { return o.TableOptions().TableName(DeleteLogTable) }

// Log is the logger to use.
func (o Options) Log() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// MaxConns is the connection limit of a pooled sink: o's, or def when unset.
func (o Options) MaxConns(def int) int {
	if o.MaxConnections > 0 {
		return o.MaxConnections
	}
	return def
}
