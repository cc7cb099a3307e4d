package artifactgenerator_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestBadInput: every spec or content that cannot build gets Ready=False
// or Stalled with the reason Flux uses and a message naming the artifact,
// the operation and the path; an event says it too; what was published
// before stays as it was.
func TestBadInput(t *testing.T) {
	ns := env.Namespace(t)
	_, _ = gitSource(t, ns, "src", map[string]string{"a/x.yaml": "x: 1\n", "notyaml.txt": "{{{ not yaml\n", "docs/two.yaml": "a: 1\n---\nb: 2\n"})
	other := env.Namespace(t)
	hand := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: "taken", Namespace: ns}}
	if err := kube.Create(context.Background(), hand); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		spec      swv1.ArtifactGeneratorSpec
		condition string
		reason    string
		want      []string
	}{
		{"duplicate alias", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{git("src", "src"), git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{output("dup", "@src/a/**", "@artifact/")},
		}, meta.StalledCondition, swv1.ValidationFailedReason, []string{`alias "src" is used twice`}},
		{"unknown alias in from", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{output("unknown", "@nope/a/**", "@artifact/")},
		}, meta.StalledCondition, swv1.ValidationFailedReason, []string{"artifact unknown", "@nope"}},
		{"path escaping the root", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{output("escape", "@src/a/x.yaml", "@artifact/../../x.yaml")},
		}, meta.StalledCondition, swv1.ValidationFailedReason, []string{"artifact escape", ".."}},
		{"from matching nothing", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{output("nothing", "@src/missing/*.yaml", "@artifact/")},
		}, meta.ReadyCondition, "BuildFailed", []string{"artifact nothing", "@src/missing/*.yaml"}},
		{"merge into a non-YAML file", swv1.ArtifactGeneratorSpec{
			Sources: []swv1.SourceReference{git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{{Name: "merge", Copy: []swv1.CopyOperation{
				{From: "@src/notyaml.txt", To: "@artifact/values.yaml"},
				{From: "@src/a/x.yaml", To: "@artifact/values.yaml", Strategy: swv1.MergeStrategy},
			}}},
		}, meta.ReadyCondition, "BuildFailed", []string{"artifact merge", "values.yaml"}},
		{"extract of a non-tarball", swv1.ArtifactGeneratorSpec{
			Sources: []swv1.SourceReference{git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{{Name: "extract", Copy: []swv1.CopyOperation{
				{From: "@src/a/x.yaml", To: "@artifact/", Strategy: swv1.ExtractStrategy},
			}}},
		}, meta.ReadyCondition, "BuildFailed", []string{"artifact extract", "x.yaml"}},
		{"missing source", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{git("src", "absent")},
			OutputArtifacts: []swv1.OutputArtifact{output("absent", "@src/a/**", "@artifact/")},
		}, meta.ReadyCondition, swv1.SourceFetchFailedReason, []string{"GitRepository/" + ns + "/absent not found"}},
		{"source in another namespace under lockdown", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{{Alias: "src", Kind: swv1.GitRepositoryKind, Name: "src", Namespace: other}},
			OutputArtifacts: []swv1.OutputArtifact{output("cross", "@src/a/**", "@artifact/")},
		}, meta.StalledCondition, "AccessDenied", []string{"cross-namespace references have been disabled", other}},
		{"name held by a hand-made ExternalArtifact", swv1.ArtifactGeneratorSpec{
			Sources:         []swv1.SourceReference{git("src", "src")},
			OutputArtifacts: []swv1.OutputArtifact{output("fine", "@src/a/**", "@artifact/"), output("taken", "@src/a/**", "@artifact/")},
		}, meta.ReadyCondition, "ReconciliationFailed", []string{"ExternalArtifact " + ns + "/taken already exists and is not managed by this generator", "made by hand"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ag := newGenerator(t, ns, "bad-"+string(rune('a'+i)), tt.spec)
			got := waitReason(t, ag, tt.condition, tt.reason)
			msg := message(got, tt.condition)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s message %q does not contain %q", tt.condition, msg, w)
				}
			}
			controllertest.WaitEvent(t, env.Kube, ag, corev1.EventTypeWarning, "", tt.want[0])
			if len(got.Status.Inventory) != 0 {
				t.Errorf("inventory %+v after a failed first pass", got.Status.Inventory)
			}
		})
	}

	// Nothing was written over the hand-made ExternalArtifact, and the
	// output built before the refusal was not published either.
	now := externalArtifact(t, ns, "taken")
	if now.ResourceVersion != hand.ResourceVersion || now.Status.Artifact != nil || len(now.Labels) != 0 {
		t.Errorf("the hand-made ExternalArtifact was changed: %+v", now)
	}
	if externalArtifact(t, ns, "fine") != nil {
		t.Error("a generator refused for one output published another")
	}
}

// TestFailureKeepsPublishedArtifacts: a spec change that cannot build
// leaves the ExternalArtifacts of the last good pass as they were.
func TestFailureKeepsPublishedArtifacts(t *testing.T) {
	ns := env.Namespace(t)
	_, _ = gitSource(t, ns, "src", map[string]string{"a/x.yaml": "x: 1\n"})
	ag := controllertest.WaitReady(t, kube, newGenerator(t, ns, "gen", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("src", "src")},
		OutputArtifacts: []swv1.OutputArtifact{output("good", "@src/a/**", "@artifact/")},
	}))
	before := externalArtifact(t, ns, "good")
	controllertest.Update(t, kube, ag, func(g *swv1.ArtifactGenerator) {
		g.Spec.OutputArtifacts = []swv1.OutputArtifact{output("good", "@src/missing/**", "@artifact/")}
	})
	got := waitReason(t, ag, meta.ReadyCondition, "BuildFailed")
	after := externalArtifact(t, ns, "good")
	if after == nil || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the published ExternalArtifact changed on a failed build: %+v", after)
	}
	if len(got.Status.Inventory) != 1 || got.Status.Inventory[0].Digest != before.Status.Artifact.Digest {
		t.Errorf("inventory %+v", got.Status.Inventory)
	}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(ag), got); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedArtifactServer: a source whose artifact sits on a server not
// allowed stalls the generator, naming the host and --artifact-servers.
func TestRefusedArtifactServer(t *testing.T) {
	ns := env.Namespace(t)
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: "third-party", Namespace: ns}}
	if err := kube.Create(context.Background(), ea); err != nil {
		t.Fatal(err)
	}
	ea.Status.Artifact = &meta.Artifact{Path: "x.tar.gz", URL: "http://stranger.example:8080/x.tar.gz", Revision: "v1@sha256:00",
		Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", LastUpdateTime: metav1.Now()}
	if err := kube.Status().Update(context.Background(), ea); err != nil {
		t.Fatal(err)
	}
	ag := newGenerator(t, ns, "gen", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{{Alias: "tp", Kind: swv1.ExternalArtifactKind, Name: "third-party"}},
		OutputArtifacts: []swv1.OutputArtifact{output("out", "@tp/**", "@artifact/")},
	})
	got := waitReason(t, ag, meta.StalledCondition, swv1.SourceFetchFailedReason)
	if msg := message(got, meta.ReadyCondition); !strings.Contains(msg, "stranger.example:8080") || !strings.Contains(msg, "--artifact-servers") || !strings.Contains(msg, "source @tp") {
		t.Errorf("Ready message %q does not name the source, the host and --artifact-servers", msg)
	}
}

// TestNameHeldByAnotherGenerator: two generators naming one output; the
// second is refused naming the first, and the first's ExternalArtifact is
// left as it made it.
func TestNameHeldByAnotherGenerator(t *testing.T) {
	ns := env.Namespace(t)
	_, _ = gitSource(t, ns, "src", map[string]string{"a/x.yaml": "x: 1\n", "b/y.yaml": "y: 1\n"})
	first := controllertest.WaitReady(t, kube, newGenerator(t, ns, "first", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("src", "src")},
		OutputArtifacts: []swv1.OutputArtifact{output("shared", "@src/a/**", "@artifact/")},
	}))
	before := externalArtifact(t, ns, "shared")
	second := newGenerator(t, ns, "second", swv1.ArtifactGeneratorSpec{
		Sources:         []swv1.SourceReference{git("src", "src")},
		OutputArtifacts: []swv1.OutputArtifact{output("shared", "@src/b/**", "@artifact/")},
	})
	got := waitReason(t, second, meta.ReadyCondition, "ReconciliationFailed")
	if msg := message(got, meta.ReadyCondition); !strings.Contains(msg, "it belongs to ArtifactGenerator "+ns+"/first") {
		t.Errorf("Ready message %q does not name the owner", msg)
	}
	after := externalArtifact(t, ns, "shared")
	if after.ResourceVersion != before.ResourceVersion || after.Labels[swv1.GeneratorLabel] != string(first.UID) {
		t.Errorf("the first generator's ExternalArtifact was changed: %+v", after.ObjectMeta)
	}
	// Deleting the refused generator leaves the first's output alone.
	if err := kube.Delete(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitEvent(t, env.Kube, second, corev1.EventTypeWarning, "", "already exists and is not managed by this generator")
	testcluster.Eventually(t, controllertest.Timeout, "second generator gone", func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(second), &swv1.ArtifactGenerator{})
		return err != nil, client.IgnoreNotFound(err)
	})
	if externalArtifact(t, ns, "shared") == nil {
		t.Error("deleting the refused generator deleted the other's ExternalArtifact")
	}
}
