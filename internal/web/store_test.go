package web

import (
	"context"
	"fmt"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(fixtures()...)
	k := kinds.Kustomization()

	all, err := s.List(ctx, k, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("List all = %d objects, %v; want 3", len(all), err)
	}
	apps, _ := s.List(ctx, k, "apps")
	if len(apps) != 2 || apps[0].GetName() != "broken" || apps[1].GetName() != "untrusted" {
		t.Errorf("List apps = %v", apps)
	}

	got := &kustomizev1.Kustomization{}
	if err := s.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "broken"}, got); err != nil || got.Spec.Path != "./apps" {
		t.Fatalf("Get = %v, %+v", err, got.Spec)
	}
	// What the store hands out is a copy: changing it changes nothing stored.
	got.Spec.Path = "changed"
	again := &kustomizev1.Kustomization{}
	_ = s.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "broken"}, again)
	if again.Spec.Path != "./apps" {
		t.Error("Get returned the stored object, not a copy")
	}

	err = s.Get(ctx, types.NamespacedName{Namespace: "apps", Name: "missing"}, &kustomizev1.Kustomization{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Get missing = %v, want NotFound", err)
	}
	// The same key under another kind is another object.
	if err := s.Get(ctx, types.NamespacedName{Namespace: "flux-system", Name: "apps"}, kinds.GitRepository().New()); !apierrors.IsNotFound(err) {
		t.Errorf("Get of another kind = %v, want NotFound", err)
	}
}

// Subscribers hear every add, update and delete, as copies, until they
// cancel.
func TestMemoryStoreSubscribe(t *testing.T) {
	s := NewMemoryStore()
	var got []string
	cancel := s.Subscribe(func(c Change) {
		got = append(got, fmt.Sprintf("%s %s/%s deleted=%v", c.Kind.Kind, c.Object.GetNamespace(), c.Object.GetName(), c.Deleted))
		c.Object.SetName("changed-by-the-subscriber")
	})
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "a"}}
	s.Add(ks)
	s.Add(ks)
	s.Delete(ks)
	s.Delete(ks) // already gone: nothing to tell
	cancel()
	s.Add(ks)
	want := []string{"Kustomization apps/a deleted=false", "Kustomization apps/a deleted=false", "Kustomization apps/a deleted=true"}
	if !slices.Equal(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if list, _ := s.List(t.Context(), kinds.Kustomization(), ""); len(list) != 1 || list[0].GetName() != "a" {
		t.Errorf("store holds %v: a subscriber changed it", list)
	}
}
