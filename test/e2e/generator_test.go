package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// monorepoGenerator is flux2-kustomize-helm-example's
// clusters/staging/artifacts.yaml, with the GitRepository's name.
const monorepoGenerator = `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: monorepo
spec:
  sources:
    - alias: monorepo
      kind: GitRepository
      name: monorepo
  artifacts:
    - name: infrastructure
      originRevision: "@monorepo"
      copy:
        - from: "@monorepo/infrastructure/**"
          to: "@artifact/"
    - name: apps
      originRevision: "@monorepo"
      copy:
        - from: "@monorepo/apps/**"
          to: "@artifact/"
`

// bundlesGenerator unpacks the tarballs under bundles/ into one artifact.
const bundlesGenerator = `apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: bundles
spec:
  sources:
    - alias: monorepo
      kind: GitRepository
      name: monorepo
  artifacts:
    - name: bundles
      copy:
        - from: "@monorepo/bundles/*.tgz"
          to: "@artifact/"
          strategy: Extract
`

// exampleKustomization is one of the example's Kustomizations, applying
// path of an ExternalArtifact after dependsOn.
func exampleKustomization(name, artifact, path, dependsOn, target string) string {
	y := `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ` + name + `
spec:
  interval: 1h
  retryInterval: 1m
  timeout: 5m
  prune: true
  wait: true
  targetNamespace: ` + target + `
  sourceRef:
    kind: ExternalArtifact
    name: ` + artifact + `
  path: ` + path + `
`
	if dependsOn != "" {
		y += "  dependsOn:\n    - name: " + dependsOn + "\n"
	}
	return y
}

func cm(name, value string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  value: " + value + "\n"
}

// TestArtifactGeneratorFlow runs the monorepo split of
// flux2-kustomize-helm-example through driftless-controller and the CLI: an
// ArtifactGenerator publishes `infrastructure` and `apps`, three chained
// Kustomizations apply them, a commit under apps/ reaches only the apps
// Kustomization, and get/tree/trace show the chain.
func TestArtifactGeneratorFlow(t *testing.T) {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	sys := "generator-" + hex.EncodeToString(suffix)
	t.Cleanup(func() { removeInstall(t, sys) })
	mustFlux(t, "install", "-n", sys, "--components-extra", "source-watcher", "--timeout", "3m")
	startController(t, serviceAccountKubeconfig(t, sys, "driftless-controller"))

	// A tarball as `flux build artifact` makes it, kept in the repository,
	// for a second generator to Extract.
	bundleDir := t.TempDir()
	writeFile(t, bundleDir+"/bundled.yaml", cm("bundled", "from-a-tarball"))
	bundle := t.TempDir() + "/bundle.tgz"
	mustFlux(t, "build", "artifact", "--path", bundleDir, "--output", bundle)
	bundleBytes, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}

	repo := gittest.NewRepo(t)
	commit1 := repo.CommitFiles(gittest.DefaultBranch, map[string]string{
		"bundles/bundle.tgz":                          string(bundleBytes),
		"infrastructure/controllers/controllers.yaml": cm("controllers", "one"),
		"infrastructure/configs/configs.yaml":         cm("configs", "one"),
		"apps/staging/kustomization.yaml":             "resources:\n- podinfo.yaml\n",
		"apps/staging/podinfo.yaml":                   cm("podinfo", "hello"),
		"clusters/staging/artifacts.yaml":             monorepoGenerator,
	}, "monorepo")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})

	ns := env.Namespace(t)
	target := ns + "-apps"
	createNamespace(t, target)
	mustFlux(t, "-n", ns, "create", "source", "git", "monorepo", "--url", srv.RepoURL(repo.Name()), "--branch", gittest.DefaultBranch, "--interval", "1h")
	apply(t, ns, monorepoGenerator,
		exampleKustomization("infra-controllers", "infrastructure", "./controllers", "", target),
		exampleKustomization("infra-configs", "infrastructure", "./configs", "infra-controllers", target),
		exampleKustomization("apps", "apps", "./staging", "infra-configs", target),
		bundlesGenerator, exampleKustomization("bundles", "bundles", "./", "", target))

	origin1 := gittest.DefaultBranch + "@sha1:" + commit1
	testcluster.Eventually(t, 3*time.Minute, "apps applied from "+origin1, func() (bool, error) {
		return originRevision(t, ns, "apps") == origin1, nil
	})
	if got := configMapNamed(t, target, "podinfo"); got != "hello" {
		t.Fatalf("podinfo = %q, want hello", got)
	}
	testcluster.Eventually(t, 2*time.Minute, "the extracted bundle applied", func() (bool, error) {
		return configMapNamed(t, target, "bundled") == "from-a-tarball", nil
	})
	infraBefore := kustomizationStatus(t, ns, "infra-controllers")

	// What the CLI shows of it.
	if out := mustFlux(t, "-n", ns, "get", "artifacts", "generators"); !strings.Contains(out, "monorepo") || !strings.Contains(out, "generated 2 artifact(s)") {
		t.Errorf("get artifacts generators:\n%s", out)
	}
	if out := mustFlux(t, "-n", ns, "get", "sources", "external"); !strings.Contains(out, "infrastructure") || !strings.Contains(out, "latest@sha256:") {
		t.Errorf("get sources external:\n%s", out)
	}
	if out := mustFlux(t, "-n", ns, "tree", "artifact", "generator", "monorepo"); !strings.Contains(out, "ExternalArtifact/"+ns+"/apps") || !strings.Contains(out, "ExternalArtifact/"+ns+"/infrastructure") {
		t.Errorf("tree artifact generator:\n%s", out)
	}
	if out := mustFlux(t, "-n", target, "trace", "podinfo", "--kind", "ConfigMap", "--api-version", "v1"); !strings.Contains(out, "ArtifactGenerator") || !strings.Contains(out, "GitRepository") {
		t.Errorf("trace does not go through the generator to the GitRepository:\n%s", out)
	}

	// A commit under apps/ changes the apps artifact alone.
	commit2 := repo.CommitFiles(gittest.DefaultBranch, map[string]string{"apps/staging/podinfo.yaml": cm("podinfo", "bonjour")}, "apps: bonjour")
	mustFlux(t, "-n", ns, "reconcile", "source", "git", "monorepo")
	origin2 := gittest.DefaultBranch + "@sha1:" + commit2
	testcluster.Eventually(t, 2*time.Minute, "apps applied from "+origin2, func() (bool, error) {
		return originRevision(t, ns, "apps") == origin2 && configMapNamed(t, target, "podinfo") == "bonjour", nil
	})
	infraAfter := kustomizationStatus(t, ns, "infra-controllers")
	if infraAfter.LastAppliedRevision != infraBefore.LastAppliedRevision || infraAfter.LastAppliedOriginRevision != origin1 ||
		infraAfter.Reconciliations != infraBefore.Reconciliations {
		t.Errorf("infra-controllers was reconciled for a commit under apps/: %+v -> %+v", infraBefore, infraAfter)
	}
}

// apply server-side applies YAML documents in ns, as kubectl apply would.
func apply(t *testing.T, ns string, docs ...string) {
	t.Helper()
	for _, d := range docs {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &obj.Object); err != nil {
			t.Fatal(err)
		}
		gvk := obj.GroupVersionKind()
		// Both kinds applied here pluralise by an "s".
		gvr := gvk.GroupVersion().WithResource(strings.ToLower(gvk.Kind) + "s")
		data, _ := json.Marshal(obj.Object)
		force := true
		if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Patch(context.Background(), obj.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: "e2e", Force: &force}); err != nil {
			t.Fatalf("apply %s %s: %v", gvk.Kind, obj.GetName(), err)
		}
	}
}

// configMapNamed is the value of ConfigMap name in ns, "" when absent.
func configMapNamed(t *testing.T, ns, name string) string {
	t.Helper()
	c, err := env.Kube.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return c.Data["value"]
}

// appliedStatus is what says whether a Kustomization applied again.
type appliedStatus struct {
	LastAppliedRevision, LastAppliedOriginRevision string
	Reconciliations                                int64
}

func kustomizationStatus(t *testing.T, ns, name string) appliedStatus {
	t.Helper()
	ks, err := env.Dynamic.Resource(kustomizations).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var s appliedStatus
	s.LastAppliedRevision, _, _ = unstructured.NestedString(ks.Object, "status", "lastAppliedRevision")
	s.LastAppliedOriginRevision, _, _ = unstructured.NestedString(ks.Object, "status", "lastAppliedOriginRevision")
	history, _, _ := unstructured.NestedSlice(ks.Object, "status", "history")
	for _, h := range history {
		if n, ok := h.(map[string]any)["totalReconciliations"].(int64); ok {
			s.Reconciliations += n
		}
	}
	return s
}
