package kustomization

import (
	"context"
	"fmt"
	"strings"
	"testing"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// DisableConfigWatchers drops the ConfigMap and Secret watches;
// ExternalArtifact=false drops the ExternalArtifact watch and stalls a
// Kustomization that names one.
func TestGatesShapeWatchesAndSources(t *testing.T) {
	kinds := func(r *Reconciler) string {
		var out []string
		for _, w := range r.watches() {
			out = append(out, fmt.Sprintf("%T", w.Object))
		}
		return strings.Join(out, ",")
	}
	all := kinds(&Reconciler{})
	if !strings.Contains(all, "ExternalArtifact") || !strings.Contains(all, "ConfigMap") || !strings.Contains(all, "Secret") {
		t.Fatalf("default watches %s", all)
	}
	if got := kinds(&Reconciler{NoConfigWatchers: true}); strings.Contains(got, "ConfigMap") || strings.Contains(got, "Secret") {
		t.Errorf("DisableConfigWatchers: watches %s", got)
	}
	if got := kinds(&Reconciler{NoExternalArtifact: true}); strings.Contains(got, "ExternalArtifact") {
		t.Errorf("ExternalArtifact=false: watches %s", got)
	}

	ks := &kustomizev1.Kustomization{}
	ks.Namespace, ks.Name = "team-a", "apps"
	ks.Spec.SourceRef = kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "generated"}
	_, err := (&Reconciler{NoExternalArtifact: true}).resolveSource(context.Background(), ks)
	if err == nil || !strings.Contains(err.Error(), "ExternalArtifact=false") {
		t.Errorf("an ExternalArtifact source with the gate off: %v", err)
	}
}
