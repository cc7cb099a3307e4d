package artifactgenerator_test

import (
	"testing"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/tartest"
)

// TestComposeMergeExtract composes one artifact from a GitRepository and
// the ExternalArtifact of another generator, merges a values overlay into
// a base and unpacks a tarball the repository carries; a new revision of
// the upstream generator's source flows through both generators.
func TestComposeMergeExtract(t *testing.T) {
	ns := env.Namespace(t)
	bundle := tartest.TarGz(t, tartest.Files(map[string]string{"crds/crd.yaml": "kind: CustomResourceDefinition\n"})...)
	// The bundle is a .tgz: a GitRepository's default ignore rules drop
	// *.tar.gz, as Flux's do.
	_, _ = gitSource(t, ns, "app", map[string]string{
		"deploy/app.yaml":      "kind: Deployment\n",
		"values/base.yaml":     "replicas: 1\nimage:\n  tag: v1\n  pull: Always\nports: [80, 443]\n",
		"values/prod.yaml":     "replicas: 3\nimage:\n  tag: v2\nports: [8443]\n",
		"bundles/crds.tgz":     string(bundle),
		"bundles/README.md":    "not a tarball\n",
		"config/settings.yaml": "mode: one\n",
	})
	configRepo, configGit := gitSource(t, ns, "config", map[string]string{"settings.yaml": "mode: one\n"})

	// The upstream generator publishes the config repository as is.
	controllertest.WaitReady(t, kube, newGenerator(t, ns, "upstream", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("config", "config")},
		OutputArtifacts: []swv1.OutputArtifact{output("config", "@config/**", "@artifact/")},
	}))
	ag := controllertest.WaitReady(t, kube, newGenerator(t, ns, "composite", swv1.ArtifactGeneratorSpec{
		Sources: []swv1.SourceReference{
			git("app", "app"),
			{Alias: "config", Kind: swv1.ExternalArtifactKind, Name: "config"},
		},
		OutputArtifacts: []swv1.OutputArtifact{{Name: "composite", Revision: "@app", Copy: []swv1.CopyOperation{
			{From: "@app/deploy/", To: "@artifact/"},
			{From: "@app/values/base.yaml", To: "@artifact/values.yaml"},
			{From: "@app/values/prod.yaml", To: "@artifact/values.yaml", Strategy: swv1.MergeStrategy},
			{From: "@app/bundles/*", To: "@artifact/bundles/", Strategy: swv1.ExtractStrategy},
			{From: "@config/settings.yaml", To: "@artifact/settings.yaml"},
		}}},
	}))
	app := &sourcev1.GitRepository{}
	app.Namespace, app.Name = ns, "app"
	app = controllertest.WaitReady(t, kube, app)
	ea := externalArtifact(t, ns, "composite")
	if ea.Status.Artifact.Revision != app.Status.Artifact.Revision {
		t.Errorf("revision %q, want the app source's %q (revision: @app)", ea.Status.Artifact.Revision, app.Status.Artifact.Revision)
	}
	files := controllertest.ArtifactFiles(t, ea.Status.Artifact)
	want := map[string]string{
		"deploy/app.yaml":       "kind: Deployment\n",
		"values.yaml":           "image:\n  pull: Always\n  tag: v2\nports:\n  - 8443\nreplicas: 3\n",
		"bundles/crds/crd.yaml": "kind: CustomResourceDefinition\n",
		"settings.yaml":         "mode: one\n",
	}
	for name, content := range want {
		if files[name] != content {
			t.Errorf("%s = %q, want %q", name, files[name], content)
		}
	}
	if len(files) != len(want) {
		t.Errorf("artifact holds %v, want %d files", keys(files), len(want))
	}
	if len(ag.Status.Inventory) != 1 {
		t.Errorf("inventory %+v", ag.Status.Inventory)
	}

	// A commit upstream goes through the first generator's ExternalArtifact
	// into the composite.
	configRepo.CommitFiles("main", map[string]string{"settings.yaml": "mode: two\n"}, "two")
	controllertest.RequestReconcile(t, kube, configGit, "two")
	waitArtifact(t, ns, "composite", "settings from the new config", func(ea *sourcev1.ExternalArtifact) bool {
		return controllertest.ArtifactFiles(t, ea.Status.Artifact)["settings.yaml"] == "mode: two\n"
	})
}
