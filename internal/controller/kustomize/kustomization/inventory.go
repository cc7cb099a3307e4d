package kustomization

import (
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/apply"
)

// inventoryOf converts status.inventory to the applier's type; nil gives
// an empty inventory.
func inventoryOf(in *kustomizev1.ResourceInventory) apply.Inventory {
	inv := apply.Inventory{Entries: []apply.InventoryEntry{}}
	if in == nil {
		return inv
	}
	for _, e := range in.Entries {
		inv.Entries = append(inv.Entries, apply.InventoryEntry{ID: e.ID, Version: e.Version})
	}
	return inv
}

// statusInventory converts the applier's inventory to status.inventory,
// which is never nil once a pass applied: an empty list says "applied
// nothing", as Flux writes it.
func statusInventory(inv apply.Inventory) *kustomizev1.ResourceInventory {
	out := &kustomizev1.ResourceInventory{Entries: make([]kustomizev1.ResourceRef, 0, len(inv.Entries))}
	for _, e := range inv.Entries {
		out.Entries = append(out.Entries, kustomizev1.ResourceRef{ID: e.ID, Version: e.Version})
	}
	return out
}
