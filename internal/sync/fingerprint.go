package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/schema"
)

// A schema fingerprint says which definition of an entity its table
// follows: "<generation>.<hash>". The hash covers the table the definition
// maps to (name, columns and their types) and everything of the
// definition that shapes the DES metadata tables (dataverse.Fingerprint),
// so the poller, the SchemaChange function and the applier, in any
// process, compute the same one from the same definition. The generation
// orders the evolutions of one entity's table: the time SchemaChange
// evolved it, in milliseconds, and always above the one before, so a
// table re-created after its state was lost (a new profile of the same
// name, a re-baseline) is newer than any message still queued for the old
// one. The entity state keeps the table's fingerprint; every message
// carries the one its rows were read with.

// Fingerprint is a parsed schema fingerprint.
type Fingerprint struct {
	Generation int64
	Hash       string
}

func (f Fingerprint) String() string {
	if f.Hash == "" {
		return ""
	}
	return strconv.FormatInt(f.Generation, 10) + "." + f.Hash
}

// ParseFingerprint reads "<generation>.<hash>"; "" is the zero Fingerprint
// (no schema yet).
func ParseFingerprint(s string) (Fingerprint, error) {
	if s == "" {
		return Fingerprint{}, nil
	}
	g, h, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(g, 10, 64)
	if !ok || err != nil || n <= 0 || !isHash(h) {
		return Fingerprint{}, fmt.Errorf("schema fingerprint %q is not <generation>.<hash>", s)
	}
	return Fingerprint{Generation: n, Hash: h}, nil
}

// hashLen is the hex digits of a fingerprint's hash: 64 bits tell apart
// the few definitions an entity ever has.
const hashLen = 16

func isHash(s string) bool {
	if len(s) != hashLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// nextFingerprint is the fingerprint of a table evolved now to hash,
// after prev.
func nextFingerprint(prev Fingerprint, hash string, now time.Time) Fingerprint {
	return Fingerprint{Generation: max(prev.Generation+1, now.UnixMilli()), Hash: hash}
}

// definition is an entity definition mapped to its table under a profile,
// and the hash of both.
type definition struct {
	prof  profile.Profile
	meta  *dataverse.Entity
	table schema.Table
	hash  string
}

// define maps meta to its table under prof with the table options o (the
// profile's, with the label views' language resolved: labelOptions) and
// hashes both. The label view's name and language count: its labels are
// written into its definition, so a change of either makes it again.
func define(prof profile.Profile, meta *dataverse.Entity, o schema.Options) (definition, error) {
	t, err := schema.Map(meta, o)
	if err != nil {
		return definition{}, fmt.Errorf("mapping metadata to a table: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "table %s.%s\n", t.Schema, t.Name)
	for _, c := range t.Columns {
		fmt.Fprintf(h, "col %s %s\n", c.Name, c.Type)
	}
	if t.Labels != nil {
		fmt.Fprintf(h, "view %s.%s lang %d\n", t.Labels.Name.Schema, t.Labels.Name.Name, t.Labels.Language)
	}
	fmt.Fprintf(h, "meta %s\n", dataverse.Fingerprint(meta))
	return definition{prof: prof, meta: meta, table: t, hash: hex.EncodeToString(h.Sum(nil))[:hashLen]}, nil
}

// definitionOptions is how prof maps an entity to its table, with the
// label views' language resolved: the profile's, else the org's base
// language when src knows it (labelOptions). Unlike labelOptions, a base
// language that cannot be read is an error: a table's fingerprint counts
// the language, and a guess would hand the entity over and make its view
// again for nothing; the next poll or run reads it again.
func definitionOptions(ctx context.Context, prof profile.Profile, src any) (schema.Options, error) {
	o := tableOptions(prof)
	if o.LabelLanguage != 0 {
		return o, nil
	}
	ls, ok := src.(LanguageSource)
	if !ok {
		return o, nil
	}
	lang, err := ls.BaseLanguage(ctx)
	if err != nil {
		return o, fmt.Errorf("reading the org's base language (the label views' language): %w", err)
	}
	o.LabelLanguage = lang
	return o, nil
}

// defineFrom is define with prof's options resolved against src.
func defineFrom(ctx context.Context, prof profile.Profile, meta *dataverse.Entity, src any) (definition, error) {
	o, err := definitionOptions(ctx, prof, src)
	if err != nil {
		return definition{}, err
	}
	return define(prof, meta, o)
}
