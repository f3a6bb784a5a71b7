package dataverse

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Fingerprint is a stable hash of everything in e that shapes the replica:
// the entity's identity and change tracking, every attribute's type and
// size, lookup targets and option sets (values and labels, which feed the
// option set metadata tables). Attribute and option order do not matter;
// MetadataIds do not matter. Equal fingerprints mean nothing to do.
func Fingerprint(e *Entity) string {
	h := sha256.New()
	fmt.Fprintf(h, "entity %s set=%s id=%s name=%s ct=%t\n", e.LogicalName, e.EntitySetName,
		e.PrimaryIDAttribute, e.PrimaryNameAttribute, e.ChangeTrackingEnabled)
	attrs := make([]*Attribute, len(e.Attributes))
	for i := range e.Attributes {
		attrs[i] = &e.Attributes[i]
	}
	slices.SortFunc(attrs, func(a, b *Attribute) int { return strings.Compare(a.LogicalName, b.LogicalName) })
	for _, a := range attrs {
		writeAttribute(h, a)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AttributeVersion is a number that changes whenever a's definition does
// (type, size, precision, targets, options and their labels; the same
// properties Fingerprint covers) and stays the same otherwise: the Web API
// serves no version number of an attribute's metadata. It is positive.
func AttributeVersion(a *Attribute) int64 {
	h := sha256.New()
	writeAttribute(h, a)
	sum := h.Sum(nil)
	return int64(binary.BigEndian.Uint64(sum[:8]) >> 1)
}

func writeAttribute(w io.Writer, a *Attribute) {
	fmt.Fprintf(w, "attr %s type=%s read=%t of=%s len=%d prec=%d psrc=%d dtb=%s src=%d",
		a.LogicalName, a.Type, a.IsValidForRead, a.AttributeOf, a.MaxLength, a.Precision,
		a.PrecisionSource, a.DateTimeBehavior, a.SourceType)
	if a.MinValue != nil {
		fmt.Fprintf(w, " min=%g", *a.MinValue)
	}
	if a.MaxValue != nil {
		fmt.Fprintf(w, " max=%g", *a.MaxValue)
	}
	targets := slices.Clone(a.Targets)
	slices.Sort(targets)
	fmt.Fprintf(w, " targets=%s\n", strings.Join(targets, ","))
	if os := a.OptionSet; os != nil {
		fmt.Fprintf(w, " options %s global=%t type=%s\n", os.Name, os.IsGlobal, os.OptionSetType)
		for _, o := range sortedOptions(os) {
			writeOption(w, o)
		}
	}
}

func writeOption(w io.Writer, o Option) {
	fmt.Fprintf(w, "  opt %d", o.Value)
	if o.State != nil {
		fmt.Fprintf(w, " state=%d", *o.State)
	}
	labels := slices.Clone(o.Labels)
	slices.SortFunc(labels, func(a, b Label) int { return a.LanguageCode - b.LanguageCode })
	for _, l := range labels {
		fmt.Fprintf(w, " %d=%q", l.LanguageCode, l.Label)
	}
	fmt.Fprintln(w)
}

// sortedOptions lists an option set's options by value, Boolean true/false
// included (as their values).
func sortedOptions(os *OptionSet) []Option {
	opts := slices.Clone(os.Options)
	if os.FalseOption != nil {
		opts = append(opts, *os.FalseOption)
	}
	if os.TrueOption != nil {
		opts = append(opts, *os.TrueOption)
	}
	slices.SortFunc(opts, func(a, b Option) int { return a.Value - b.Value })
	return opts
}

// ChangeKind classifies one metadata difference.
type ChangeKind string

const (
	AttributeAdded          ChangeKind = "attribute-added"
	AttributeRemoved        ChangeKind = "attribute-removed"
	TypeChanged             ChangeKind = "type-changed"
	StringWidened           ChangeKind = "string-widened"
	StringNarrowed          ChangeKind = "string-narrowed"
	PrecisionWidened        ChangeKind = "precision-widened"
	PrecisionNarrowed       ChangeKind = "precision-narrowed"
	DateTimeBehaviorChanged ChangeKind = "datetime-behavior-changed"
	TargetsChanged          ChangeKind = "targets-changed"
	ReadabilityChanged      ChangeKind = "readability-changed"
	OptionAdded             ChangeKind = "option-added"
	OptionRemoved           ChangeKind = "option-removed"
	OptionLabelChanged      ChangeKind = "option-label-changed"
	EntityChanged           ChangeKind = "entity-changed"
)

// Change is one difference between two definitions of an entity.
type Change struct {
	Kind      ChangeKind
	Attribute string // "" for entity-level changes
	Old, New  string // the values compared, for logs and operators
	Option    *int   // the option value for option changes
}

func (c Change) String() string {
	s := string(c.Kind)
	if c.Attribute != "" {
		s += " " + c.Attribute
	}
	if c.Option != nil {
		s += fmt.Sprintf(" option %d", *c.Option)
	}
	if c.Old != "" || c.New != "" {
		s += fmt.Sprintf(": %s -> %s", c.Old, c.New)
	}
	return s
}

// Diff lists what changed from old to new, in new's attribute order
// (removals last). Only properties that shape the replica are compared.
func Diff(old, new *Entity) []Change {
	var out []Change
	if old.EntitySetName != new.EntitySetName || old.PrimaryIDAttribute != new.PrimaryIDAttribute ||
		old.ChangeTrackingEnabled != new.ChangeTrackingEnabled {
		out = append(out, Change{Kind: EntityChanged,
			Old: fmt.Sprintf("set=%s id=%s tracked=%t", old.EntitySetName, old.PrimaryIDAttribute, old.ChangeTrackingEnabled),
			New: fmt.Sprintf("set=%s id=%s tracked=%t", new.EntitySetName, new.PrimaryIDAttribute, new.ChangeTrackingEnabled)})
	}
	for i := range new.Attributes {
		n := &new.Attributes[i]
		o := old.Attribute(n.LogicalName)
		if o == nil {
			out = append(out, Change{Kind: AttributeAdded, Attribute: n.LogicalName, New: string(n.Type)})
			continue
		}
		out = append(out, diffAttribute(o, n)...)
	}
	for i := range old.Attributes {
		o := &old.Attributes[i]
		if new.Attribute(o.LogicalName) == nil {
			out = append(out, Change{Kind: AttributeRemoved, Attribute: o.LogicalName, Old: string(o.Type)})
		}
	}
	return out
}

func diffAttribute(o, n *Attribute) []Change {
	name := n.LogicalName
	if o.Type != n.Type {
		// Nothing else is comparable across types.
		return []Change{{Kind: TypeChanged, Attribute: name, Old: string(o.Type), New: string(n.Type)}}
	}
	var out []Change
	add := func(k ChangeKind, ov, nv any) {
		out = append(out, Change{Kind: k, Attribute: name, Old: fmt.Sprint(ov), New: fmt.Sprint(nv)})
	}
	if o.IsValidForRead != n.IsValidForRead {
		add(ReadabilityChanged, o.IsValidForRead, n.IsValidForRead)
	}
	switch {
	case n.MaxLength > o.MaxLength:
		add(StringWidened, o.MaxLength, n.MaxLength)
	case n.MaxLength < o.MaxLength:
		add(StringNarrowed, o.MaxLength, n.MaxLength)
	}
	switch {
	case n.Precision > o.Precision:
		add(PrecisionWidened, o.Precision, n.Precision)
	case n.Precision < o.Precision:
		add(PrecisionNarrowed, o.Precision, n.Precision)
	}
	if o.DateTimeBehavior != n.DateTimeBehavior {
		add(DateTimeBehaviorChanged, o.DateTimeBehavior, n.DateTimeBehavior)
	}
	ot, nt := slices.Clone(o.Targets), slices.Clone(n.Targets)
	slices.Sort(ot)
	slices.Sort(nt)
	if !slices.Equal(ot, nt) {
		add(TargetsChanged, strings.Join(ot, ","), strings.Join(nt, ","))
	}
	return append(out, diffOptions(name, o.OptionSet, n.OptionSet)...)
}

func diffOptions(name string, o, n *OptionSet) []Change {
	if o == nil && n == nil {
		return nil
	}
	var oo, no []Option
	if o != nil {
		oo = sortedOptions(o)
	}
	if n != nil {
		no = sortedOptions(n)
	}
	byValue := func(opts []Option) map[int]Option {
		m := make(map[int]Option, len(opts))
		for _, x := range opts {
			m[x.Value] = x
		}
		return m
	}
	om, nm := byValue(oo), byValue(no)
	var out []Change
	for _, x := range no {
		v := x.Value
		prev, ok := om[v]
		switch {
		case !ok:
			out = append(out, Change{Kind: OptionAdded, Attribute: name, Option: &v, New: optionLabel(x)})
		case optionLabels(prev) != optionLabels(x):
			out = append(out, Change{Kind: OptionLabelChanged, Attribute: name, Option: &v, Old: optionLabel(prev), New: optionLabel(x)})
		}
	}
	for _, x := range oo {
		if _, ok := nm[x.Value]; !ok {
			v := x.Value
			out = append(out, Change{Kind: OptionRemoved, Attribute: name, Option: &v, Old: optionLabel(x)})
		}
	}
	return out
}

// optionLabel is the label shown to operators: the user's, else the first.
func optionLabel(o Option) string {
	if o.UserLabel != nil {
		return o.UserLabel.Label
	}
	if len(o.Labels) > 0 {
		return o.Labels[0].Label
	}
	return ""
}

func optionLabels(o Option) string {
	var b strings.Builder
	writeOption(&b, o)
	return b.String()
}
