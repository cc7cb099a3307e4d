package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/testkit/ocitest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// ociManifests is what CI packs into the artifact: two Deployments, which
// KWOK makes Available, and the greeting ConfigMap.
func ociManifests(t *testing.T, greeting string) string {
	t.Helper()
	dir := t.TempDir()
	files := appFiles(greeting)
	files["deploy/api.yaml"] = strings.ReplaceAll(files["deploy/deployment.yaml"], "web", "api")
	files["deploy/kustomization.yaml"] = "resources:\n- configmap.yaml\n- deployment.yaml\n- api.yaml\n"
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "deploy")
}

// TestOCIArtifactFlow is Git-free GitOps with the built binaries: CI runs
// `flux push artifact`, the cluster gets `flux create source oci` and a
// Kustomization on it; the objects are applied with the pushed revision as
// lastAppliedOriginRevision, and a second push to the same tag is applied
// after `flux reconcile source oci`.
func TestOCIArtifactFlow(t *testing.T) {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	sys := "oci-" + hex.EncodeToString(suffix)
	t.Cleanup(func() { removeInstall(t, sys) })
	mustFlux(t, "install", "-n", sys, "--timeout", "3m")
	startController(t, serviceAccountKubeconfig(t, sys, "driftless-controller"))

	reg := ocitest.Start(t, ocitest.Options{})
	url := "oci://" + reg.Host + "/fleet/apps"
	push := func(greeting, revision string) {
		t.Helper()
		mustFlux(t, "push", "artifact", url+":production", "--path", ociManifests(t, greeting),
			"--source", "https://github.com/org/fleet", "--revision", revision, "--insecure-registry")
	}
	rev1 := "main@sha1:" + strings.Repeat("1a", 20)
	push("hello", rev1)

	ns := env.Namespace(t)
	target := ns + "-apps"
	createNamespace(t, target)
	mustFlux(t, "-n", ns, "create", "source", "oci", "apps", "--url", url, "--tag", "production", "--insecure", "--interval", "1h")
	mustFlux(t, "-n", ns, "create", "kustomization", "apps", "--source", "OCIRepository/apps", "--path", "./",
		"--prune", "--wait", "--target-namespace", target, "--interval", "1h")
	if got := configMapValue(t, target); got != "hello" {
		t.Fatalf("greeting = %q after create, want hello", got)
	}
	if got := originRevision(t, ns, "apps"); got != rev1 {
		t.Errorf("lastAppliedOriginRevision = %q, want the pushed %q", got, rev1)
	}
	if out := mustFlux(t, "-n", ns, "get", "sources", "oci"); !strings.Contains(out, "production@sha256:") {
		t.Errorf("get sources oci shows no revision of the tag:\n%s", out)
	}

	rev2 := "main@sha1:" + strings.Repeat("2b", 20)
	push("bonjour", rev2)
	mustFlux(t, "-n", ns, "reconcile", "source", "oci", "apps")
	testcluster.Eventually(t, 2*time.Minute, "the second push applied", func() (bool, error) {
		return configMapValue(t, target) == "bonjour" && originRevision(t, ns, "apps") == rev2, nil
	})
	for _, name := range []string{"web", "api"} {
		if _, err := env.Kube.AppsV1().Deployments(target).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			t.Errorf("Deployment %s: %v", name, err)
		}
	}
}

func originRevision(t *testing.T, ns, name string) string {
	t.Helper()
	ks, err := env.Dynamic.Resource(kustomizations).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := unstructured.NestedString(ks.Object, "status", "lastAppliedOriginRevision")
	return v
}
