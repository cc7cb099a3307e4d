package web

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
