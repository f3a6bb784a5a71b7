package state

import (
	"errors"
	"fmt"
	"unicode/utf16"
)

var (
	// ErrNotFound: the profile or entity state does not exist.
	ErrNotFound = errors.New("state: not found")
	// ErrConflict: someone else wrote the row since it was read (or created
	// it first); re-read and decide again.
	ErrConflict = errors.New("state: conflict, written by someone else")
	// ErrExists: a profile of that name exists already.
	ErrExists = errors.New("state: already exists")
	// ErrPreconditionFailed: the row changed since the ETag a conditional
	// write names was read.
	ErrPreconditionFailed = errors.New("state: changed since it was read (ETag mismatch)")
	// ErrInvalidKey: a name cannot be used as a table key.
	ErrInvalidKey = errors.New("state: invalid key")
	// ErrTooLarge: a value does not fit a table property (64 KiB).
	ErrTooLarge = errors.New("state: value too large for a table property")
)

// maxKeyBytes is the Table service limit on PartitionKey and RowKey.
const maxKeyBytes = 1024

// maxPropertyBytes is the Table service limit on one string property,
// counted in UTF-16 bytes.
const maxPropertyBytes = 64 * 1024

// checkKey rejects what the Table service does not accept in a key:
// / \ # ?, control characters, empty and over-long values.
func checkKey(what, k string) error {
	if k == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidKey, what)
	}
	if len(k) > maxKeyBytes {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalidKey, what, maxKeyBytes)
	}
	for _, r := range k {
		switch {
		case r == '/', r == '\\', r == '#', r == '?':
			return fmt.Errorf("%w: %s %q contains %q", ErrInvalidKey, what, k, r)
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return fmt.Errorf("%w: %s %q contains a control character", ErrInvalidKey, what, k)
		}
	}
	return nil
}

// checkProperty fails when s would not fit one string property.
func checkProperty(what, s string) error {
	if n := utf16Bytes(s); n > maxPropertyBytes {
		return fmt.Errorf("%w: %s is %d bytes as UTF-16, the limit is %d", ErrTooLarge, what, n, maxPropertyBytes)
	}
	return nil
}

func utf16Bytes(s string) int {
	n := 0
	for _, r := range s {
		n += 2 * utf16.RuneLen(r)
	}
	return n
}
