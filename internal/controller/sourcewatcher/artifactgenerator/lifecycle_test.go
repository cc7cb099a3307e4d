package artifactgenerator_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

func configMap(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  value: " + value + "\n"
}

// TestSplitMonorepo splits a monorepo as flux2-kustomize-helm-example's
// clusters/*/artifacts.yaml does, applies both outputs with Kustomizations
// chained by dependsOn, and shows that a commit under apps/ changes only
// the apps artifact: the infrastructure Kustomization is not reconciled.
func TestSplitMonorepo(t *testing.T) {
	ns := env.Namespace(t)
	repo, gr := gitSource(t, ns, "monorepo", map[string]string{
		"infrastructure/config.yaml": configMap("infra", "one"),
		"apps/config.yaml":           configMap("app", "one"),
		"README.md":                  "# monorepo\n",
	})
	split := func(name string) swv1.OutputArtifact {
		o := output(name, "@monorepo/"+name+"/**", "@artifact/")
		o.OriginRevision = "@monorepo"
		return o
	}
	ag := newGenerator(t, ns, "monorepo", swv1.ArtifactGeneratorSpec{
		CommonMetadata:  &meta.CommonMetadata{Labels: map[string]string{"team": "platform"}, Annotations: map[string]string{"owner": "ops"}},
		Sources:         []swv1.SourceReference{git("monorepo", "monorepo")},
		OutputArtifacts: []swv1.OutputArtifact{split("infrastructure"), split("apps")},
	})
	ag = controllertest.WaitReady(t, kube, ag)
	if msg := message(ag, meta.ReadyCondition); msg != "reconciliation succeeded, generated 2 artifact(s)" {
		t.Errorf("Ready message %q", msg)
	}
	if !controllerutilHas(ag.Finalizers, swv1.Finalizer) {
		t.Errorf("finalizers %v, want %s", ag.Finalizers, swv1.Finalizer)
	}

	gitRevision := gr.Status.Artifact.Revision
	infra, apps := externalArtifact(t, ns, "infrastructure"), externalArtifact(t, ns, "apps")
	for _, ea := range []*sourcev1.ExternalArtifact{infra, apps} {
		if ea == nil || ea.Status.Artifact == nil {
			t.Fatalf("ExternalArtifact missing or without artifact: %+v", ea)
		}
		a := ea.Status.Artifact
		if !strings.HasPrefix(a.Revision, "latest@sha256:") || a.Metadata[swv1.OriginRevisionMetadataKey] != gitRevision {
			t.Errorf("%s: revision %q, origin %q; want latest@sha256:… and %s", ea.Name, a.Revision, a.Metadata[swv1.OriginRevisionMetadataKey], gitRevision)
		}
		want := map[string]string{"team": "platform", "app.kubernetes.io/managed-by": "source-watcher", swv1.GeneratorLabel: string(ag.UID)}
		for k, v := range want {
			if ea.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q", ea.Name, k, ea.Labels[k], v)
			}
		}
		if ea.Annotations["owner"] != "ops" {
			t.Errorf("%s: annotations %v", ea.Name, ea.Annotations)
		}
		if ref := ea.Spec.SourceRef; ref == nil || ref.Kind != swv1.ArtifactGeneratorKind || ref.Name != "monorepo" || ref.APIVersion != swv1.GroupVersion.String() {
			t.Errorf("%s: sourceRef %+v", ea.Name, ref)
		}
		if !strings.Contains(a.Path, "externalartifact/"+ns+"/"+ea.Name+"/") {
			t.Errorf("%s: stored at %s", ea.Name, a.Path)
		}
	}
	if files := controllertest.ArtifactFiles(t, apps.Status.Artifact); len(files) != 1 || files["config.yaml"] != configMap("app", "one") {
		t.Errorf("apps artifact holds %v, want config.yaml alone", keys(files))
	}
	if len(ag.Status.Inventory) != 2 || ag.Status.Inventory[1].Name != "apps" || ag.Status.Inventory[1].Digest != apps.Status.Artifact.Digest ||
		ag.Status.Inventory[1].Filename != filepath.Base(apps.Status.Artifact.Path) || ag.Status.ObservedSourcesDigest == "" {
		t.Errorf("inventory %+v, observedSourcesDigest %q", ag.Status.Inventory, ag.Status.ObservedSourcesDigest)
	}

	ksInfra := kustomization(t, ns, "infrastructure", "")
	ksApps := kustomization(t, ns, "apps", "infrastructure")
	ksInfra = controllertest.WaitReady(t, kube, ksInfra)
	ksApps = controllertest.WaitReady(t, kube, ksApps)
	if ksApps.Status.LastAppliedOriginRevision != gitRevision || ksApps.Status.LastAppliedRevision != apps.Status.Artifact.Revision {
		t.Errorf("apps Kustomization applied %q from origin %q", ksApps.Status.LastAppliedRevision, ksApps.Status.LastAppliedOriginRevision)
	}

	// A commit under apps/ changes only the apps artifact.
	commit := repo.CommitFiles("main", map[string]string{"apps/config.yaml": configMap("app", "two")}, "apps: two")
	controllertest.RequestReconcile(t, kube, gr, "apps-two")
	newOrigin := "main@sha1:" + commit
	apps2 := waitArtifact(t, ns, "apps", "origin revision "+newOrigin, func(ea *sourcev1.ExternalArtifact) bool {
		return ea.Status.Artifact.Metadata[swv1.OriginRevisionMetadataKey] == newOrigin
	})
	if apps2.Status.Artifact.Revision == apps.Status.Artifact.Revision {
		t.Errorf("apps revision did not change: %s", apps2.Status.Artifact.Revision)
	}
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(ksApps), "apps applied from "+newOrigin, func(k *kustomizev1.Kustomization) bool {
		return k.Status.LastAppliedOriginRevision == newOrigin && k.Status.LastAppliedRevision == apps2.Status.Artifact.Revision
	})
	cm := &corev1.ConfigMap{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "app"}, cm); err != nil || cm.Data["value"] != "two" {
		t.Errorf("ConfigMap app: %v %v", cm.Data, err)
	}
	infra2 := externalArtifact(t, ns, "infrastructure")
	if infra2.Status.Artifact.Revision != infra.Status.Artifact.Revision || !infra2.Status.Artifact.LastUpdateTime.Equal(&infra.Status.Artifact.LastUpdateTime) {
		t.Errorf("infrastructure artifact changed: %+v -> %+v", infra.Status.Artifact, infra2.Status.Artifact)
	}
	ksInfra2 := &kustomizev1.Kustomization{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(ksInfra), ksInfra2); err != nil {
		t.Fatal(err)
	}
	if ksInfra2.Status.LastAppliedRevision != ksInfra.Status.LastAppliedRevision || ksInfra2.Status.LastAppliedOriginRevision != gitRevision ||
		len(ksInfra2.Status.History) != 1 || ksInfra2.Status.History[0].TotalReconciliations != ksInfra.Status.History[0].TotalReconciliations {
		t.Errorf("infrastructure Kustomization reconciled again: %+v", ksInfra2.Status)
	}
	for _, e := range controllertest.Events(t, env.Kube, ksInfra) {
		if strings.Contains(e.Message, newOrigin) || strings.Contains(e.Message, apps2.Status.Artifact.Revision) {
			t.Errorf("infrastructure Kustomization event about the apps commit: %s", e.Message)
		}
	}
	controllertest.WaitEvent(t, env.Kube, ag, corev1.EventTypeNormal, "ExternalArtifactUpdated", "ExternalArtifact "+ns+"/apps updated")
}

// kustomization applies the ExternalArtifact name, after dependsOn when set.
func kustomization(t *testing.T, ns, name, dependsOn string) *kustomizev1.Kustomization {
	t.Helper()
	k := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Interval:        metav1.Duration{Duration: time.Hour},
			Prune:           true,
			TargetNamespace: ns,
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: name},
		},
	}
	if dependsOn != "" {
		k.Spec.DependsOn = []meta.DependencyReference{{Name: dependsOn}}
	}
	if err := kube.Create(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestDriftSuspendAndDeletion: an edited or deleted ExternalArtifact is
// restored; an output gone from the spec is deleted with its files; the
// suspend annotation stops all that; deleting the generator deletes what
// it made.
func TestDriftSuspendAndDeletion(t *testing.T) {
	ns := env.Namespace(t)
	repo, gr := gitSource(t, ns, "src", map[string]string{"a/x.yaml": "x: 1\n", "b/y.yaml": "y: 1\n"})
	ag := controllertest.WaitReady(t, kube, newGenerator(t, ns, "gen", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("src", "src")},
		OutputArtifacts: []swv1.OutputArtifact{output("one", "@src/a/**", "@artifact/"), output("two", "@src/b/", "@artifact/")},
	}))
	one := externalArtifact(t, ns, "one")
	controllertest.WaitEvent(t, env.Kube, ag, corev1.EventTypeNormal, "ExternalArtifactCreated", "ExternalArtifact "+ns+"/one created with revision latest@sha256:")

	// An edited label and a forged artifact are put back.
	controllertest.Patch(t, kube, one, `{"metadata":{"labels":{"app.kubernetes.io/managed-by":"someone"}}}`)
	waitArtifact(t, ns, "one", "managed-by restored", func(ea *sourcev1.ExternalArtifact) bool {
		return ea.Labels["app.kubernetes.io/managed-by"] == "source-watcher"
	})
	forged := externalArtifact(t, ns, "one")
	forged.Status.Artifact.URL = "http://evil.example/x.tar.gz"
	forged.Status.Artifact.Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	if err := kube.Status().Update(context.Background(), forged); err != nil {
		t.Fatal(err)
	}
	waitArtifact(t, ns, "one", "artifact restored", func(ea *sourcev1.ExternalArtifact) bool {
		return ea.Status.Artifact.Digest == one.Status.Artifact.Digest && ea.Status.Artifact.URL == one.Status.Artifact.URL
	})

	// A deleted one comes back.
	if err := kube.Delete(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	waitArtifact(t, ns, "one", "recreated", func(ea *sourcev1.ExternalArtifact) bool { return ea.UID != one.UID })

	// An output gone from the spec is deleted, files and all.
	two := externalArtifact(t, ns, "two")
	twoDir := filepath.Join(storageDir, "externalartifact", ns, "two")
	if _, err := os.Stat(filepath.Join(storageDir, two.Status.Artifact.Path)); err != nil {
		t.Fatalf("two's file: %v", err)
	}
	controllertest.Update(t, kube, ag, func(g *swv1.ArtifactGenerator) { g.Spec.OutputArtifacts = g.Spec.OutputArtifacts[:1] })
	waitGone(t, ns, "two")
	// The object goes first (consumers stop asking), then its files, in
	// the same pass.
	testcluster.Eventually(t, controllertest.Timeout, "two's storage directory removed", func() (bool, error) {
		_, err := os.Stat(twoDir)
		return os.IsNotExist(err), nil
	})
	ag = controllertest.WaitReady(t, kube, ag)
	if len(ag.Status.Inventory) != 1 || ag.Status.Inventory[0].Name != "one" {
		t.Errorf("inventory %+v", ag.Status.Inventory)
	}
	controllertest.WaitEvent(t, env.Kube, ag, corev1.EventTypeNormal, "ExternalArtifactDeleted", "ExternalArtifact "+ns+"/two deleted")

	// Suspended, it neither restores nor rebuilds; a twin generator on the
	// same source shows the source's new revision went round.
	twin := newGenerator(t, ns, "twin", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("src", "src")},
		OutputArtifacts: []swv1.OutputArtifact{output("twin", "@src/a/**", "@artifact/")},
	})
	controllertest.WaitReady(t, kube, twin)
	controllertest.Patch(t, kube, ag, `{"metadata":{"annotations":{"source.extensions.fluxcd.io/reconcile":"disabled"}}}`)
	// A change to the twin made after the suspension, seen by the
	// controller, shows its cache of generators has the suspension too
	// (one watch, in order): from here on every pass of gen is suspended.
	controllertest.Patch(t, kube, twin, `{"spec":{"commonMetadata":{"labels":{"fence":"one"}}}}`)
	waitArtifact(t, ns, "twin", "the twin's fence label", func(ea *sourcev1.ExternalArtifact) bool { return ea.Labels["fence"] == "one" })
	digest := ag.Status.ObservedSourcesDigest
	current := externalArtifact(t, ns, "one")
	if err := kube.Delete(context.Background(), current); err != nil {
		t.Fatal(err)
	}
	commit := repo.CommitFiles("main", map[string]string{"a/x.yaml": "x: 2\n"}, "x: 2")
	controllertest.RequestReconcile(t, kube, gr, "x-two")
	waitArtifact(t, ns, "twin", "twin rebuilt", func(ea *sourcev1.ExternalArtifact) bool {
		files := controllertest.ArtifactFiles(t, ea.Status.Artifact)
		return files["x.yaml"] == "x: 2\n"
	})
	_ = commit
	if ea := externalArtifact(t, ns, "one"); ea != nil {
		t.Errorf("a suspended generator restored its ExternalArtifact: %+v", ea.Status.Artifact)
	}
	got := &swv1.ArtifactGenerator{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(ag), got); err != nil || got.Status.ObservedSourcesDigest != digest {
		t.Errorf("a suspended generator rebuilt: %q -> %q (%v)", digest, got.Status.ObservedSourcesDigest, err)
	}
	controllertest.Patch(t, kube, ag, `{"metadata":{"annotations":{"source.extensions.fluxcd.io/reconcile":null}}}`)
	waitArtifact(t, ns, "one", "rebuilt after resume", func(ea *sourcev1.ExternalArtifact) bool {
		return controllertest.ArtifactFiles(t, ea.Status.Artifact)["x.yaml"] == "x: 2\n"
	})

	// Deleting the generator deletes its ExternalArtifacts and their files,
	// not the twin's.
	if err := kube.Delete(context.Background(), ag); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ns, "one")
	testcluster.Eventually(t, controllertest.Timeout, "generator gone", func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(ag), &swv1.ArtifactGenerator{})
		return client.IgnoreNotFound(err) == nil && err != nil, nil
	})
	if _, err := os.Stat(filepath.Join(storageDir, "externalartifact", ns, "one")); !os.IsNotExist(err) {
		t.Errorf("one's storage directory is still there: %v", err)
	}
	if externalArtifact(t, ns, "twin") == nil {
		t.Error("deleting one generator deleted the other's ExternalArtifact")
	}
}

// TestPathPattern makes one ExternalArtifact per matched directory,
// labelled with the lowercased capture; a new directory adds one, a
// removed one deletes it.
func TestPathPattern(t *testing.T) {
	ns := env.Namespace(t)
	repo, gr := gitSource(t, ns, "src", map[string]string{
		"apps/Frontend/app.yaml": "name: frontend\n",
		"apps/backend/app.yaml":  "name: backend\n",
	})
	ag := controllertest.WaitReady(t, kube, newGenerator(t, ns, "apps", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("src", "src")},
		PathPattern:     "@src/apps/{app}",
		OutputArtifacts: []swv1.OutputArtifact{output("app-{{ .app }}", "@src/apps/{{ .app }}/**", "@artifact/")},
	}))
	for name, capture := range map[string]string{"app-frontend": "frontend", "app-backend": "backend"} {
		ea := externalArtifact(t, ns, name)
		if ea == nil {
			t.Fatalf("no ExternalArtifact %s", name)
		}
		if ea.Labels["app"] != capture {
			t.Errorf("%s: label app=%q, want %q", name, ea.Labels["app"], capture)
		}
		if got := controllertest.ArtifactFiles(t, ea.Status.Artifact)["app.yaml"]; got != "name: "+capture+"\n" {
			t.Errorf("%s holds %q", name, got)
		}
	}
	if len(ag.Status.Inventory) != 2 {
		t.Errorf("inventory %+v", ag.Status.Inventory)
	}
	repo.CommitFiles("main", map[string]string{"apps/cache/app.yaml": "name: cache\n"}, "add cache")
	controllertest.RequestReconcile(t, kube, gr, "add-cache")
	waitArtifact(t, ns, "app-cache", "app-cache", func(ea *sourcev1.ExternalArtifact) bool { return ea.Labels["app"] == "cache" })
	repo.RemoveFiles("main", []string{"apps/backend/app.yaml"}, "remove backend")
	controllertest.RequestReconcile(t, kube, gr, "remove-backend")
	waitGone(t, ns, "app-backend")
	ag = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(ag), "two outputs", func(g *swv1.ArtifactGenerator) bool {
		return len(g.Status.Inventory) == 2 && g.Status.Inventory[0].Name != "app-backend" && g.Status.Inventory[1].Name != "app-backend"
	})
}

func controllerutilHas(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
