package dataverse

import "unsafe"

// unsafeString views b as a string without copying. Only for transient use
// (map lookups, comparisons) while b is unchanged; never store the result.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
