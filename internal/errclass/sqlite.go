package errclass

import (
	"errors"
	"strings"
)

// SQLite primary result codes (the low byte of an extended code).
const (
	sqliteError      = 1
	sqlitePerm       = 3
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteNoMem      = 7
	sqliteReadOnly   = 8
	sqliteInterrupt  = 9
	sqliteIOErr      = 10
	sqliteCorrupt    = 11
	sqliteFull       = 13
	sqliteCantOpen   = 14
	sqliteProtocol   = 15
	sqliteTooBig     = 18
	sqliteConstraint = 19
	sqliteMismatch   = 20
	sqliteAuth       = 23
	sqliteRange      = 25
	sqliteNotADB     = 26
)

var sqliteCodes = map[int]Class{
	sqliteBusy:       Transient, // another writer holds the lock past busy_timeout
	sqliteLocked:     Transient,
	sqliteNoMem:      Transient,
	sqliteInterrupt:  Transient,
	sqliteIOErr:      Transient,
	sqliteFull:       Transient, // the disk is full: space may be freed
	sqliteCantOpen:   Transient,
	sqliteProtocol:   Transient,
	sqliteConstraint: Record, // check, not null, unique
	sqliteMismatch:   Record,
	sqliteTooBig:     Record,
	sqliteRange:      Record,
	sqlitePerm:       Configuration,
	sqliteReadOnly:   Configuration, // the file or directory is not writable
	sqliteAuth:       Configuration,
	sqliteCorrupt:    Configuration, // the file needs an operator
	sqliteNotADB:     Configuration,
}

// sqliteCoder is modernc.org/sqlite's *Error (its fields are unexported, so
// the classifier and its tests go through the method).
type sqliteCoder interface {
	error
	Code() int
}

// sqlite classifies a modernc.org/sqlite error by its result code.
func sqlite(err error) (Class, bool) {
	var se sqliteCoder
	if !errors.As(err, &se) {
		return Unknown, false
	}
	return SQLiteCode(se.Code(), se.Error()), true
}

// SQLiteCode classifies an SQLite result code (extended codes included);
// msg is the error text, which alone tells a missing table or column from
// other SQLITE_ERRORs.
func SQLiteCode(code int, msg string) Class {
	primary := code & 0xff
	if c, ok := sqliteCodes[primary]; ok {
		return c
	}
	if primary == sqliteError {
		for _, s := range []string{"no such table", "no such column", "has no column named"} {
			if strings.Contains(msg, s) {
				return Schema
			}
		}
	}
	return Unknown
}
