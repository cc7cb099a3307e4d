package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The revisions of the generator fixture: the monorepo's commit, and the
// content digests of the two ExternalArtifacts made from it.
var (
	genCommit     = "main@sha1:" + sha256Hex([]byte("monorepo commit"))[:40]
	genAppsRev    = "latest@sha256:" + sha256Hex([]byte("apps content"))
	genInfraRev   = "latest@sha256:" + sha256Hex([]byte("infra content"))
	genStorageURL = "http://source-controller.flux-system.svc.cluster.local./"
)

// generatorFixture makes, in a fresh namespace, what an ArtifactGenerator
// that split a monorepo leaves behind, as source-watcher writes it: the
// GitRepository monorepo (Ready at genCommit), the ArtifactGenerator
// monorepo with the ExternalArtifacts apps and infra in its inventory, both
// Ready with originRevision genCommit; a third party's ExternalArtifact
// "vendor" that is not Ready; and the Kustomization apps that applied the
// ExternalArtifact apps, with the ConfigMap web it applied. No controller
// of this package's cluster touches them (the shard label no one answers):
// the test writes every status itself, so the output is stable.
func generatorFixture(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := env.Namespace(t)
	shard := map[string]string{shardKey: unansweredShard}
	ready := func(msg string) []metav1.Condition {
		return []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
			Message: msg, ObservedGeneration: 1, LastTransitionTime: metav1.Now()}}
	}

	git := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "monorepo", Namespace: ns, Labels: shard},
		Spec: sourcev1.GitRepositorySpec{URL: "https://github.com/example/monorepo", Interval: metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}}
	createWithStatus(t, git, func() {
		git.Status.ObservedGeneration = 1
		git.Status.Artifact = genArtifact("gitrepository/"+ns+"/monorepo/", genCommit, nil)
		git.Status.Conditions = ready("stored artifact for revision '" + genCommit + "'")
	})

	gen := &sourceextv1beta1.ArtifactGenerator{ObjectMeta: metav1.ObjectMeta{Name: "monorepo", Namespace: ns, Labels: shard},
		Spec: sourceextv1beta1.ArtifactGeneratorSpec{
			Sources: []sourceextv1beta1.SourceReference{{Alias: "monorepo", Kind: sourceextv1beta1.GitRepositoryKind, Name: "monorepo"}},
			OutputArtifacts: []sourceextv1beta1.OutputArtifact{
				{Name: "infra", OriginRevision: "@monorepo", Copy: []sourceextv1beta1.CopyOperation{{From: "@monorepo/infrastructure/**", To: "@artifact/"}}},
				{Name: "apps", OriginRevision: "@monorepo", Copy: []sourceextv1beta1.CopyOperation{{From: "@monorepo/apps/**", To: "@artifact/"}}},
			}}}
	createWithStatus(t, gen, func() {
		gen.Status.Conditions = ready("reconciliation succeeded, generated 2 artifact(s)")
		gen.Status.ObservedSourcesDigest = "sha256:" + sha256Hex([]byte("sources of monorepo"))
		gen.Status.Inventory = []sourceextv1beta1.InventoryEntry{
			{Name: "infra", Namespace: ns, Digest: "sha256:" + sha256Hex([]byte("infra tarball")), Filename: "infra.tar.gz"},
			{Name: "apps", Namespace: ns, Digest: "sha256:" + sha256Hex([]byte("apps tarball")), Filename: "apps.tar.gz"},
		}
	})

	origin := map[string]string{sourceextv1beta1.OriginRevisionMetadataKey: genCommit}
	for name, rev := range map[string]string{"apps": genAppsRev, "infra": genInfraRev} {
		ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels: map[string]string{sourceextv1beta1.GeneratorLabel: string(gen.UID)}},
			Spec: sourcev1.ExternalArtifactSpec{SourceRef: &meta.NamespacedObjectKindReference{
				APIVersion: sourceextv1beta1.GroupVersion.String(), Kind: sourceextv1beta1.ArtifactGeneratorKind, Name: "monorepo", Namespace: ns}}}
		createWithStatus(t, ea, func() {
			ea.Status.Artifact = genArtifact("externalartifact/"+ns+"/"+name+"/", rev, origin)
			ea.Status.Conditions = ready("stored artifact for revision '" + rev + "'")
		})
	}
	vendor := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: "vendor", Namespace: ns}}
	createWithStatus(t, vendor, func() {
		vendor.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "FetchFailed",
			Message: "upstream registry unreachable", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}}
	})

	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns, Labels: shard},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}, Path: "./", Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "apps"}}}
	createWithStatus(t, ks, func() {
		ks.Status.ObservedGeneration = 1
		ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision = genAppsRev, genAppsRev
		ks.Status.Conditions = ready("Applied revision: " + genAppsRev)
	})
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: map[string]string{
		ksNameLabel: "apps", ksNamespaceLabel: ns}}}
	if err := kube.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	return ns
}

// genArtifact is an artifact stored under dir with revision rev.
func genArtifact(dir, rev string, metadata map[string]string) *meta.Artifact {
	digest := sha256Hex([]byte("tarball of " + rev))
	size := int64(2048)
	return &meta.Artifact{Path: dir + digest + ".tar.gz", URL: genStorageURL + dir + digest + ".tar.gz", Revision: rev,
		Digest: "sha256:" + digest, Size: &size, LastUpdateTime: metav1.Now(), Metadata: metadata}
}

// createWithStatus creates obj, then sets its status with status and
// writes it through the status subresource.
func createWithStatus(t *testing.T, obj client.Object, status func()) {
	t.Helper()
	ctx := context.Background()
	if err := kube.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
	status()
	if err := kube.Status().Update(ctx, obj); err != nil {
		t.Fatalf("writing the status of %T %s: %v", obj, obj.GetName(), err)
	}
}

// TestGeneratorCommands drives every command of Flux's CLI for
// ExternalArtifacts and ArtifactGenerators on the generator fixture.
func TestGeneratorCommands(t *testing.T) {
	ctx := context.Background()
	ns := generatorFixture(t)
	gen := &sourceextv1beta1.ArtifactGenerator{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "monorepo"}, gen); err != nil {
		t.Fatal(err)
	}
	// The generated ExternalArtifacts carry the generator's UID as a label.
	normaliseOCI := func(s, ns string) string {
		return strings.ReplaceAll(normaliseOCI(s, ns), string(gen.UID), "<generator-uid>")
	}

	// get, get sources all, get all: tables as Flux's.
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"get/sources-external.txt", []string{"get", "sources", "external"}},
		{"get/sources-external-named-wide.txt", []string{"get", "source", "external", "apps", "-o", "wide"}},
		{"get/sources-external-not-ready.txt", []string{"get", "sources", "external", "--status-selector", "ready=false"}},
		{"get/sources-all-external.txt", []string{"get", "sources", "all"}},
		{"get/artifacts-generators.txt", []string{"get", "artifacts", "generators"}},
		{"get/artifact-generator-named-wide.txt", []string{"get", "artifact", "generator", "monorepo", "-o", "wide"}},
		{"get/all-generator.txt", []string{"get", "all"}},
	} {
		out, errOut, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normaliseOCI(out, ns))
	}
	out, _ := mustFlux(t, "", "-n", ns, "get", "sources", "external", "--no-header", "-l", sourceextv1beta1.GeneratorLabel)
	if strings.Contains(out, "NAME") || strings.Contains(out, "vendor") || !strings.Contains(out, "apps") || !strings.Contains(out, "infra") {
		t.Errorf("get sources external --no-header -l %s:\n%s", sourceextv1beta1.GeneratorLabel, out)
	}
	out, _ = mustFlux(t, "", "get", "sources", "external", "-A")
	if !strings.Contains(out, "NAMESPACE") || !strings.Contains(out, ns) {
		t.Errorf("get sources external -A lacks the namespace:\n%s", out)
	}
	// A typo'd name gets the not-found answer of every kind.
	for _, args := range [][]string{
		{"get", "sources", "external", "appz"}, {"get", "artifacts", "generators", "monorepoz"},
		{"export", "source", "external", "appz"}, {"export", "artifact", "generator", "monorepoz"},
		{"tree", "artifact", "generator", "monorepoz"}, {"describe", "artifact", "generator", "monorepoz"},
	} {
		_, _, err := runFlux(t, "", append([]string{"-n", ns}, args...)...)
		name := args[len(args)-1]
		if err == nil || !strings.Contains(err.Error(), `"`+name+`" not found in namespace "`+ns+`"`) {
			t.Errorf("flux %s: want not found, got %v", strings.Join(args, " "), err)
		}
	}

	// export: what a user would apply, one or all.
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "external", "apps")
	checkGolden(t, "export/source-external.yaml", normaliseOCI(out, ns))
	out, _ = mustFlux(t, "", "-n", ns, "export", "source", "external", "--all")
	if strings.Count(out, "kind: ExternalArtifact") != 3 || strings.Contains(out, "status:") {
		t.Errorf("export source external --all:\n%s", out)
	}
	out, _ = mustFlux(t, "", "-n", ns, "export", "artifact", "generator", "monorepo")
	checkGolden(t, "export/artifact-generator.yaml", normaliseOCI(out, ns))
	out, _ = mustFlux(t, "", "-n", ns, "export", "artifact", "generator", "--all")
	if strings.Count(out, "kind: ArtifactGenerator") != 1 || strings.Contains(out, "inventory") {
		t.Errorf("export artifact generator --all:\n%s", out)
	}

	// tree: the inventory, as text, json and yaml.
	for golden, args := range map[string][]string{
		"tree/artifact-generator.txt":  {"tree", "artifact", "generator", "monorepo"},
		"tree/artifact-generator.json": {"tree", "artifact", "generator", "monorepo", "-o", "json"},
		"tree/artifact-generator.yaml": {"tree", "artifact", "generator", "monorepo", "-o", "yaml"},
	} {
		out, _ = mustFlux(t, "", append([]string{"-n", ns}, args...)...)
		checkGolden(t, golden, normaliseOCI(out, ns))
	}

	// events: a generator's come with its sources', an ExternalArtifact's
	// with its generator's; plain `flux events` shows the generator's too.
	recordEvent(t, ns, "monorepo-git.1", "source.toolkit.fluxcd.io/v1", "GitRepository", "monorepo", corev1.EventTypeNormal,
		"NewArtifact", "stored artifact for commit 'split the repo'")
	recordEvent(t, ns, "monorepo-gen.1", "source.extensions.fluxcd.io/v1beta1", "ArtifactGenerator", "monorepo", corev1.EventTypeNormal,
		"ArtifactUpdated", "ExternalArtifact apps updated")
	recordEvent(t, ns, "vendor.1", "source.toolkit.fluxcd.io/v1", "ExternalArtifact", "vendor", corev1.EventTypeWarning,
		"FetchFailed", "upstream registry unreachable")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"events/for-artifact-generator.txt", []string{"--for", "ArtifactGenerator/monorepo"}},
		{"events/for-external-artifact.txt", []string{"--for", "ExternalArtifact/apps"}},
		{"events/generator-all.txt", nil},
	} {
		out, errOut, err := runEventsPinned(t, append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("events %v: %v\n%s", tc.args, err, errOut)
		}
		checkGolden(t, tc.golden, normaliseOCI(out, ns))
	}

	// describe both kinds.
	for golden, args := range map[string][]string{
		"describe/source-external.txt":    {"describe", "source", "external", "apps"},
		"describe/artifact-generator.txt": {"describe", "artifact", "generator", "monorepo"},
	} {
		out, err := runDescribe(t, append([]string{"-n", ns}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		checkGolden(t, golden, normaliseOCI(out, ns))
	}

	// trace: ConfigMap → Kustomization → ExternalArtifact → generator → GitRepository.
	out, _ = mustFlux(t, "", "-n", ns, "trace", "configmap/web")
	checkGolden(t, "trace/configmap-external-artifact.txt", normaliseOCI(out, ns))
	for _, want := range []string{"ExternalArtifact:", "ArtifactGenerator:", "GitRepository:", "@monorepo", genCommit} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}

	// A generator's source gone: the chain ends there, saying so.
	if err := kube.Delete(ctx, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "monorepo", Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	out, _ = mustFlux(t, "", "-n", ns, "trace", "configmap/web")
	if _, last, _ := strings.Cut(out, "GitRepository:"); !strings.Contains(last, "Alias:") || !strings.Contains(last, "Not found") {
		t.Errorf("trace with the generator's source deleted:\n%s", out)
	}

	// Suspended by annotation, as Flux: SUSPENDED reads it.
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "monorepo"}, gen); err != nil {
		t.Fatal(err)
	}
	gen.Annotations = map[string]string{sourceextv1beta1.ReconcileAnnotation: sourceextv1beta1.ReconcileDisabledValue}
	if err := kube.Update(ctx, gen); err != nil {
		t.Fatal(err)
	}
	out, _ = mustFlux(t, "", "-n", ns, "get", "artifacts", "generators", "--no-header")
	if fields := strings.Fields(out); len(fields) < 3 || fields[0] != "monorepo" || fields[1] != "True" {
		t.Errorf("get artifacts generators of a generator suspended by annotation:\n%s", out)
	}
}

// TestGeneratorCommandsFluxLacks: Flux's CLI has no delete, reconcile,
// suspend or resume for ExternalArtifacts and ArtifactGenerators; nor
// does Driftless's, so a script gets cobra's unknown-command error.
func TestGeneratorCommandsFluxLacks(t *testing.T) {
	for _, verb := range []string{"delete", "reconcile", "suspend", "resume"} {
		for _, path := range [][]string{{"source", "external"}, {"artifact", "generator"}} {
			args := append([]string{verb}, append(path, "x")...)
			o := newOfflineFlux(t)
			err := o.run(args...)
			if err == nil || !strings.Contains(err.Error(), "unknown command") {
				t.Errorf("flux %s: want unknown command, got %v", strings.Join(args, " "), err)
			}
		}
	}
}

// TestGetExternalWatch: `flux get sources external -w` prints the table,
// then a line when the producer writes a new status, and returns without
// an error when its context ends.
func TestGetExternalWatch(t *testing.T) {
	ns := generatorFixture(t)
	var out syncBuffer
	f := NewFactory(strings.NewReader(""), &out, &out)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs([]string{"--kubeconfig", env.Kubeconfig(), "-n", ns, "get", "sources", "external", "apps", "-w"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	testcluster.Eventually(t, 30*time.Second, "the first table", func() (bool, error) {
		return strings.Contains(out.String(), "NAME"), nil
	})
	ea := &sourcev1.ExternalArtifact{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "apps"}, ea); err != nil {
		t.Fatal(err)
	}
	ea.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "BuildFailed",
		Message: "copy @monorepo/apps/** matched nothing", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}}
	if err := kube.Status().Update(ctx, ea); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 30*time.Second, "a line for the new status", func() (bool, error) {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		return len(lines) >= 3 && strings.Contains(lines[len(lines)-1], "matched nothing"), nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("watch ended with %v, want no error when its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not return after its context ended")
	}
}
