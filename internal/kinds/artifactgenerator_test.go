package kinds

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// TestGeneratorKindsCommands: the two kinds sit where Flux's command line
// has them, are looked up by kind and resource (as `events --for` does),
// and are read-only.
func TestGeneratorKindsCommands(t *testing.T) {
	ea, ag := ExternalArtifact(), ArtifactGenerator()
	for _, tc := range []struct{ got, want string }{
		{ea.Command.Path(), "source external"},
		{ea.Command.GetPath(), "sources external"},
		{ag.Command.Path(), "artifact generator"},
		{ag.Command.GetPath(), "artifacts generators"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for name, want := range map[string]string{
		"externalartifact": "ExternalArtifact", "externalartifacts": "ExternalArtifact",
		"ArtifactGenerator": "ArtifactGenerator", "artifactgenerators": "ArtifactGenerator",
	} {
		if k, ok := Lookup(name); !ok || k.Kind != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", name, k.Kind, ok, want)
		}
	}
	if !ea.ReadOnly || !ag.ReadOnly || ea.SetSuspend != nil || ag.SetSuspend != nil {
		t.Errorf("both kinds are read-only in Flux's CLI, with no spec.suspend to set")
	}
}

// TestExternalArtifactEntry: the producer is spec.sourceRef with its
// namespace and a generator's API version defaulted; none for a third
// party's; never suspended; its revision is the artifact's, and the trace
// shows where the content came from.
func TestExternalArtifactEntry(t *testing.T) {
	k := ExternalArtifact()
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: "flux-system"},
		Spec: sourcev1.ExternalArtifactSpec{SourceRef: &meta.NamespacedObjectKindReference{Kind: "ArtifactGenerator", Name: "monorepo"}},
		Status: sourcev1.ExternalArtifactStatus{Artifact: &meta.Artifact{Revision: "latest@sha256:ab",
			Metadata: map[string]string{sourceextv1beta1.OriginRevisionMetadataKey: "main@sha1:cd"}}}}
	want := Ref{APIVersion: "source.extensions.fluxcd.io/v1beta1", Kind: "ArtifactGenerator", Namespace: "flux-system", Name: "monorepo"}
	if got, ok := Producer(ea); !ok || got != want {
		t.Errorf("Producer = %+v, %v; want %+v", got, ok, want)
	}
	if rel := k.Related(ea); len(rel) != 1 || rel[0] != want {
		t.Errorf("Related = %+v, want the generator", rel)
	}
	if k.IsSuspended(ea) || k.RevisionOf(ea) != "latest@sha256:ab" {
		t.Errorf("suspended %v, revision %q", k.IsSuspended(ea), k.RevisionOf(ea))
	}
	summary := map[string]string{}
	for _, p := range k.Summary(ea) {
		summary[p.Key] = p.Value
	}
	if summary["Source"] != "ArtifactGenerator/flux-system/monorepo" || summary["Origin Revision"] != "main@sha1:cd" {
		t.Errorf("trace summary %v", summary)
	}
	// A third party's, naming no producer: nothing related, no Source.
	third := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: "vendor", Namespace: "apps"}}
	if _, ok := Producer(third); ok || len(k.Related(third)) != 0 || k.Wide[0].Value(third) != "" {
		t.Errorf("a third party's ExternalArtifact has a producer")
	}
	// No controller answers a request on it: the web UI offers nothing.
	if acts := k.Actions(ea); len(acts) != 0 {
		t.Errorf("actions %+v, want none", acts)
	}
}

// TestArtifactGeneratorEntry: sources default to the generator's
// namespace and are its related objects; the suspend annotation (any case)
// is what suspends it; describe lists its inventory; the web UI offers
// Reconcile (the controller handles requestedAt) but never a spec.suspend
// patch.
func TestArtifactGeneratorEntry(t *testing.T) {
	k := ArtifactGenerator()
	g := &sourceextv1beta1.ArtifactGenerator{ObjectMeta: metav1.ObjectMeta{Name: "monorepo", Namespace: "flux-system", Generation: 2},
		Spec: sourceextv1beta1.ArtifactGeneratorSpec{
			Sources: []sourceextv1beta1.SourceReference{
				{Alias: "repo", Kind: "GitRepository", Name: "monorepo"},
				{Alias: "charts", Kind: "OCIRepository", Name: "charts", Namespace: "shared"},
			},
			OutputArtifacts: []sourceextv1beta1.OutputArtifact{{Name: "apps"}, {Name: "infra"}}},
		Status: sourceextv1beta1.ArtifactGeneratorStatus{
			Conditions: []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, ObservedGeneration: 2}},
			Inventory: []sourceextv1beta1.InventoryEntry{
				{Name: "infra", Namespace: "flux-system", Digest: "sha256:02"},
				{Name: "apps", Namespace: "flux-system", Digest: "sha256:01"},
			}}}
	wantRel := []Ref{
		{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Namespace: "flux-system", Name: "monorepo"},
		{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "OCIRepository", Namespace: "shared", Name: "charts"},
	}
	rel := k.Related(g)
	if len(rel) != 2 || rel[0] != wantRel[0] || rel[1] != wantRel[1] {
		t.Errorf("Related = %+v, want %+v", rel, wantRel)
	}
	if k.IsSuspended(g) {
		t.Error("suspended without the annotation")
	}
	if acts := k.Actions(g); len(acts) != 1 || acts[0].Name != ActionReconcile.Name {
		t.Errorf("actions %+v, want Reconcile alone", acts)
	}
	g.Annotations = map[string]string{sourceextv1beta1.ReconcileAnnotation: "Disabled"}
	if !k.IsSuspended(g) {
		t.Error("the annotation reconcile=Disabled does not suspend it")
	}
	if acts := k.Actions(g); len(acts) != 0 {
		t.Errorf("a suspended generator offers %+v: resuming is removing the annotation, not a spec.suspend patch", acts)
	}
	values := map[string]string{}
	var inventory []string
	for _, s := range Describe(k, g, func(time.Time) string { return "1s" }) {
		for _, p := range s.Pairs {
			values[s.Title+"/"+p.Key] = p.Value
		}
		if s.Title == "Inventory" {
			inventory = s.List
		}
	}
	for key, want := range map[string]string{
		"Spec/Sources":               "@repo=GitRepository/flux-system/monorepo, @charts=OCIRepository/shared/charts",
		"Spec/Artifacts":             "apps, infra",
		"Spec/Suspend":               "true",
		"Status/Observed Generation": "2 (generation 2)",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	if len(inventory) != 2 || inventory[0] != "ExternalArtifact/flux-system/apps (sha256:01)" {
		t.Errorf("inventory %q, want both, sorted", inventory)
	}
	if k.Wide[0].Value(g) != "2" || k.Wide[1].Value(g) != "2" {
		t.Errorf("wide SOURCES %s, ARTIFACTS %s", k.Wide[0].Value(g), k.Wide[1].Value(g))
	}
}
