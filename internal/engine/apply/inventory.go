package apply

import "errors"

// Inventory lists the objects an applier applied. It is the engine's own
// type: each kind that keeps an inventory in its status (Kustomization
// today) converts to and from its API type.
type Inventory struct {
	Entries []InventoryEntry
}

// InventoryEntry is one object of an Inventory.
type InventoryEntry struct {
	// ID is <namespace>_<name>_<group>_<kind>.
	ID string
	// Version is the API version the object was applied with.
	Version string
}

// NewInventory returns the inventory of refs, in their order; a reference
// given twice is kept once, with the version of its last occurrence.
func NewInventory(refs ...ObjectRef) Inventory {
	inv := Inventory{Entries: []InventoryEntry{}}
	return inv.Add(refs...)
}

// Add returns inv with refs added; an object already in inv gets the
// version of the new reference.
func (inv Inventory) Add(refs ...ObjectRef) Inventory {
	out := Inventory{Entries: append([]InventoryEntry{}, inv.Entries...)}
	at := make(map[string]int, len(out.Entries))
	for i, e := range out.Entries {
		at[e.ID] = i
	}
	for _, r := range refs {
		id := r.ID()
		if i, ok := at[id]; ok {
			out.Entries[i].Version = r.Version
			continue
		}
		at[id] = len(out.Entries)
		out.Entries = append(out.Entries, InventoryEntry{ID: id, Version: r.Version})
	}
	return out
}

// Refs parses the entries of inv.
func (inv Inventory) Refs() ([]ObjectRef, error) {
	refs := make([]ObjectRef, 0, len(inv.Entries))
	var errs []error
	for _, e := range inv.Entries {
		r, err := ParseID(e.ID, e.Version)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		refs = append(refs, r)
	}
	return refs, errors.Join(errs...)
}

// Diff returns the objects of old that are not in new: the stale objects
// to prune. Versions do not matter: an object applied with another version
// is the same object.
func Diff(old, new Inventory) ([]ObjectRef, error) {
	keep := make(map[string]bool, len(new.Entries))
	for _, e := range new.Entries {
		keep[e.ID] = true
	}
	var stale []ObjectRef
	var errs []error
	for _, e := range old.Entries {
		if keep[e.ID] {
			continue
		}
		r, err := ParseID(e.ID, e.Version)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stale = append(stale, r)
	}
	return stale, errors.Join(errs...)
}
