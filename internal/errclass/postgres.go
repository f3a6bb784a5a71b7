package errclass

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgresCodes classifies single SQLSTATEs that differ from their class.
var postgresCodes = map[string]Class{
	"25006": Transient,     // read_only_sql_transaction: a standby after failover
	"55P03": Transient,     // lock_not_available
	"55006": Transient,     // object_in_use
	"58030": Transient,     // io_error
	"57P04": Configuration, // database_dropped
	"42703": Schema,        // undefined_column
	"42P01": Schema,        // undefined_table
	"3F000": Schema,        // invalid_schema_name: the schema is missing
	"42804": Schema,        // datatype_mismatch: the table was retyped
	"42501": Configuration, // insufficient_privilege
	"3D000": Configuration, // invalid_catalog_name: no such database
	"54000": Record,        // program_limit_exceeded: e.g. an index row too large for this record
}

// postgresClasses classifies by the SQLSTATE class (first two characters).
var postgresClasses = map[string]Class{
	"08": Transient,     // connection exception
	"40": Transient,     // transaction rollback: serialization failure, deadlock
	"53": Transient,     // insufficient resources: disk full, out of memory, too many connections
	"57": Transient,     // operator intervention: shutdown, cannot connect now, query canceled
	"22": Record,        // data exception: value out of range, invalid text, too long
	"23": Record,        // integrity constraint violation: check, not null, unique, foreign key
	"28": Configuration, // invalid authorization: wrong password, no such role
}

// postgres classifies a PostgreSQL server error (pgconn.PgError) by its
// SQLSTATE, and pgx's own signs of a lost connection.
func postgres(err error) (Class, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return PostgresCode(pe.Code), true
	}
	if errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		// A connection the driver closed after a failure, one that failed
		// before anything was sent, or a timeout.
		return Transient, true
	}
	return Unknown, false
}

// PostgresCode classifies a SQLSTATE.
func PostgresCode(code string) Class {
	if c, ok := postgresCodes[code]; ok {
		return c
	}
	if len(code) == 5 {
		if c, ok := postgresClasses[code[:2]]; ok {
			return c
		}
	}
	return Unknown
}
