package dvemu

// SetChangeTracking turns an entity's change tracking on or off, as an
// administrator does in the table's properties: with it off, the entity's
// definition says ChangeTrackingEnabled false and reads of its changes
// answer 0x80072491 (ChangeTrackingNotEnabledForEntity).
func (e *Emulator) SetChangeTracking(entity string, enabled bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.table(entity)
	if err != nil {
		return err
	}
	e.metadataVersion++
	d := *t.def
	d.ChangeTrackingDisabled = !enabled
	t.def = &d
	return nil
}
