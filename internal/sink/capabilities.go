package sink

// Destination is every capability a dialect implements: what the pipeline
// writes with (Sink), what reconciliation and tests read with (Reader,
// Scanner, KeyScanner), the last step of a full read that converges
// (Sweeper), the DES metadata tables (MetadataWriter) and the explicit
// cleanups (TableDropper, ColumnDropper). The acceptance suite takes a
// Destination, so a dialect that lacks a capability does not compile
// against it, and capabilities_test.go asserts the matrix per dialect.
type Destination interface {
	Sink
	Reader
	Scanner
	KeyScanner
	Sweeper
	MetadataWriter
	TableDropper
	ColumnDropper
}
