package errclass

import (
	"errors"

	mssql "github.com/microsoft/go-mssqldb"
)

// sqlServerNumbers classifies SQL Server and Azure SQL error numbers.
var sqlServerNumbers = map[int32]Class{
	// Transient: deadlocks, timeouts, resource limits, failover, and the
	// errors Azure SQL documents as transient (retry after a pause).
	-2:    Transient, // client timeout
	1205:  Transient, // deadlock victim
	1204:  Transient, // out of locks
	1222:  Transient, // lock request timeout
	701:   Transient, // insufficient memory
	8645:  Transient, // timeout waiting for memory
	9002:  Transient, // transaction log full
	3960:  Transient, // snapshot isolation update conflict
	233:   Transient, // connection broken (no process at the other end)
	10053: Transient, // connection aborted
	10054: Transient, // connection reset
	10060: Transient, // connection timed out
	10928: Transient, // resource limit reached (Azure SQL)
	10929: Transient, // resource limit reached (Azure SQL)
	40143: Transient, // connection could not be initialised
	40197: Transient, // service error processing the request (failover)
	40501: Transient, // service is busy (throttling)
	40613: Transient, // database not currently available
	49918: Transient, // not enough resources to process the request
	49919: Transient, // too many create or update operations
	49920: Transient, // too many operations in progress
	4221:  Transient, // login to a read secondary timed out (failover)
	// Configuration: logins, permissions, a missing database.
	4060:  Configuration, // cannot open the database requested by the login
	18456: Configuration, // login failed
	18452: Configuration, // login from an untrusted domain
	916:   Configuration, // the principal cannot access the database
	229:   Configuration, // permission denied on an object
	230:   Configuration, // permission denied on a column
	262:   Configuration, // permission denied in the database
	40532: Configuration, // cannot open the server requested by the login
	// Record: the row itself is refused.
	2627: Record, // unique constraint (primary key) violation
	2601: Record, // duplicate key in a unique index
	547:  Record, // check or foreign key constraint
	8152: Record, // string or binary data would be truncated
	2628: Record, // string or binary data would be truncated (names the column)
	515:  Record, // cannot insert NULL
	245:  Record, // conversion failed
	8114: Record, // error converting data type
	8115: Record, // arithmetic overflow converting
	220:  Record, // arithmetic overflow for a data type
	241:  Record, // conversion of a date or time failed
	242:  Record, // date out of range
	517:  Record, // adding a value to a date column caused an overflow
	// Schema: the table is behind the metadata.
	207: Schema, // invalid column name
	208: Schema, // invalid object name (missing table)
}

// sqlServer classifies a SQL Server error (mssql.Error) by the first error
// number in its chain that has a class: the driver reports the last
// message of a batch, often 3621 "The statement has been terminated", after
// the one that says why.
func sqlServer(err error) (Class, bool) {
	var me mssql.Error
	if !errors.As(err, &me) {
		var pme *mssql.Error
		if !errors.As(err, &pme) {
			return Unknown, false
		}
		me = *pme
	}
	all := me.All
	if len(all) == 0 {
		all = []mssql.Error{me}
	}
	for _, e := range all {
		if c := SQLServerNumber(e.Number); c != Unknown {
			return c, true
		}
	}
	return Unknown, true
}

// SQLServerNumber classifies a SQL Server error number.
func SQLServerNumber(n int32) Class { return sqlServerNumbers[n] }
