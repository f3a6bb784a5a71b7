package dvemu

import (
	"fmt"
	"slices"
	"strings"
)

// Run-time metadata changes. Definitions are copy-on-write: a change builds
// a new Entity and swaps the table's pointer under the lock, so a request
// rendering with an older snapshot never sees a half-made change.

// MetadataError reports an invalid metadata change.
type MetadataError struct {
	Entity, Attribute, Reason string
}

func (e *MetadataError) Error() string {
	return fmt.Sprintf("dvemu: metadata %s.%s: %s", e.Entity, e.Attribute, e.Reason)
}

// AddAttribute adds a column to entity. Existing rows hold null in it until
// they are updated, as in Dataverse.
func (e *Emulator) AddAttribute(entity string, a Attribute) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.table(entity)
	if err != nil {
		return err
	}
	a.LogicalName = strings.ToLower(a.LogicalName)
	bad := func(reason string) error {
		return &MetadataError{Entity: entity, Attribute: a.LogicalName, Reason: reason}
	}
	if a.LogicalName == "" {
		return bad("empty logical name")
	}
	if _, ok := typeInfos[a.Type]; !ok {
		return bad(fmt.Sprintf("unknown type %q", a.Type))
	}
	if _, dup := t.def.attr(a.LogicalName); dup != nil {
		return bad("already exists")
	}
	if a.IsPrimaryID || a.IsPrimaryName {
		return bad("cannot add a primary attribute")
	}
	if a.SchemaName == "" {
		a.SchemaName = a.LogicalName
	}
	switch a.Type {
	case String, Memo:
		if a.MaxLength <= 0 {
			return bad("MaxLength must be > 0")
		}
	case Picklist, MultiSelectPicklist, State, Status:
		if a.OptionSet == nil || len(a.OptionSet.Options) == 0 {
			return bad("an option set with options is required")
		}
	case Boolean:
		if a.OptionSet == nil {
			a.OptionSet = &OptionSet{TrueLabel: "Yes", FalseLabel: "No"}
		}
	case Lookup, Customer, Owner:
		if len(a.Targets) == 0 {
			return bad("Targets required")
		}
	case DateTime:
		if a.DateTimeBehavior == "" {
			a.DateTimeBehavior = "UserLocal"
		}
	}
	if a.AttributeOf != "" {
		_, parent := t.def.attr(a.AttributeOf)
		if parent == nil {
			return bad(fmt.Sprintf("AttributeOf %q is not an attribute of %s", a.AttributeOf, entity))
		}
		a.companion = !parent.Type.IsLookup()
	}
	a.OptionSet = cloneOptionSet(a.OptionSet)
	a.Targets = slices.Clone(a.Targets)
	e.metadataVersion++
	a.changedAt = e.metadataVersion
	d := *t.def
	d.Attributes = append(slices.Clone(d.Attributes), a)
	t.def = &d
	return nil
}

// WidenString raises a String or Memo column's MaxLength.
func (e *Emulator) WidenString(entity, attr string, maxLength int) error {
	return e.changeAttribute(entity, attr, func(a *Attribute) error {
		if a.Type != String && a.Type != Memo {
			return fmt.Errorf("not a String or Memo column")
		}
		if maxLength < a.MaxLength {
			return fmt.Errorf("MaxLength can only grow (%d < %d)", maxLength, a.MaxLength)
		}
		a.MaxLength = maxLength
		return nil
	})
}

// AddOption adds a choice to a Picklist, MultiSelectPicklist or Status
// column's option set. For Status, state gives the owning statecode.
func (e *Emulator) AddOption(entity, attr string, value int, label string, state *int) error {
	return e.changeAttribute(entity, attr, func(a *Attribute) error {
		if a.OptionSet == nil || a.Type == Boolean || a.Type == State {
			return fmt.Errorf("column has no extensible option set")
		}
		if hasOption(a, value) {
			return fmt.Errorf("option %d already exists", value)
		}
		if a.Type == Status && state == nil {
			return fmt.Errorf("a status option needs its state")
		}
		a.OptionSet = cloneOptionSet(a.OptionSet)
		op := Option{Value: value, Label: label}
		if state != nil {
			op.State = intp(*state)
		}
		a.OptionSet.Options = append(a.OptionSet.Options, op)
		return nil
	})
}

// RelabelOption changes the label of one option of a choice column
// (Picklist, MultiSelectPicklist, State, Status), or of a Boolean column's
// true (value 1) or false (value 0) option.
func (e *Emulator) RelabelOption(entity, attr string, value int, label string) error {
	return e.changeAttribute(entity, attr, func(a *Attribute) error {
		if a.OptionSet == nil {
			return fmt.Errorf("column has no option set")
		}
		if label == "" {
			return fmt.Errorf("empty label")
		}
		a.OptionSet = cloneOptionSet(a.OptionSet)
		if a.Type == Boolean {
			switch value {
			case 0:
				a.OptionSet.FalseLabel = label
			case 1:
				a.OptionSet.TrueLabel = label
			default:
				return fmt.Errorf("a Boolean column has options 0 and 1, not %d", value)
			}
			return nil
		}
		for i := range a.OptionSet.Options {
			if a.OptionSet.Options[i].Value == value {
				a.OptionSet.Options[i].Label = label
				return nil
			}
		}
		return fmt.Errorf("option %d does not exist", value)
	})
}

func (e *Emulator) changeAttribute(entity, attr string, change func(a *Attribute) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.table(entity)
	if err != nil {
		return err
	}
	i, cur := t.def.attr(attr)
	if cur == nil {
		return &MetadataError{Entity: entity, Attribute: attr, Reason: "unknown attribute"}
	}
	d := *t.def
	d.Attributes = slices.Clone(d.Attributes)
	if err := change(&d.Attributes[i]); err != nil {
		return &MetadataError{Entity: entity, Attribute: attr, Reason: err.Error()}
	}
	e.metadataVersion++
	d.Attributes[i].changedAt = e.metadataVersion
	t.def = &d
	return nil
}

func cloneOptionSet(os *OptionSet) *OptionSet {
	if os == nil {
		return nil
	}
	c := *os
	c.Options = slices.Clone(os.Options)
	return &c
}
