package kustomization

import (
	"reflect"
	"testing"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/engine/apply"
)

func TestInventoryStatusRoundTrip(t *testing.T) {
	inv := apply.NewInventory(
		apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "apps", Name: "web"},
		apply.ObjectRef{Version: "v1", Kind: "Namespace", Name: "apps"})
	status := statusInventory(inv)
	want := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{
		{ID: "apps_web_apps_Deployment", Version: "v1"}, {ID: "_apps__Namespace", Version: "v1"},
	}}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("statusInventory = %+v, want %+v", status, want)
	}
	if back := inventoryOf(status); !reflect.DeepEqual(back, inv) {
		t.Errorf("round trip = %+v, want %+v", back, inv)
	}
	if empty := statusInventory(inventoryOf(nil)); empty.Entries == nil {
		t.Error("empty inventory has nil entries: it would serialise without the required entries field")
	}
}
