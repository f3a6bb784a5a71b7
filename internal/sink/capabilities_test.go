package sink_test

import (
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/postgres"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/sink/sqlserver"
)

// The capability matrix: every dialect implements every capability, checked
// by the compiler. sinktest.Run takes a sink.Destination too, so the suite
// never meets a dialect without one (it fails to build rather than skip).
var (
	_ sink.SchemaApplier  = (*sqlite.Sink)(nil)
	_ sink.BatchApplier   = (*sqlite.Sink)(nil)
	_ sink.Reader         = (*sqlite.Sink)(nil)
	_ sink.Scanner        = (*sqlite.Sink)(nil)
	_ sink.KeyScanner     = (*sqlite.Sink)(nil)
	_ sink.Sweeper        = (*sqlite.Sink)(nil)
	_ sink.MetadataWriter = (*sqlite.Sink)(nil)
	_ sink.TableDropper   = (*sqlite.Sink)(nil)
	_ sink.ColumnDropper  = (*sqlite.Sink)(nil)
	_ sink.Destination    = (*sqlite.Sink)(nil)

	_ sink.SchemaApplier  = (*postgres.Sink)(nil)
	_ sink.BatchApplier   = (*postgres.Sink)(nil)
	_ sink.Reader         = (*postgres.Sink)(nil)
	_ sink.Scanner        = (*postgres.Sink)(nil)
	_ sink.KeyScanner     = (*postgres.Sink)(nil)
	_ sink.Sweeper        = (*postgres.Sink)(nil)
	_ sink.MetadataWriter = (*postgres.Sink)(nil)
	_ sink.TableDropper   = (*postgres.Sink)(nil)
	_ sink.ColumnDropper  = (*postgres.Sink)(nil)
	_ sink.Destination    = (*postgres.Sink)(nil)

	_ sink.SchemaApplier  = (*sqlserver.Sink)(nil)
	_ sink.BatchApplier   = (*sqlserver.Sink)(nil)
	_ sink.Reader         = (*sqlserver.Sink)(nil)
	_ sink.Scanner        = (*sqlserver.Sink)(nil)
	_ sink.KeyScanner     = (*sqlserver.Sink)(nil)
	_ sink.Sweeper        = (*sqlserver.Sink)(nil)
	_ sink.MetadataWriter = (*sqlserver.Sink)(nil)
	_ sink.TableDropper   = (*sqlserver.Sink)(nil)
	_ sink.ColumnDropper  = (*sqlserver.Sink)(nil)
	_ sink.Destination    = (*sqlserver.Sink)(nil)
)
