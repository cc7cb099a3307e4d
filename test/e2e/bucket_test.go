package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/internal/testkit/s3test"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestBucketFlow is GitOps from object storage with the built binaries: CI
// uploads manifests under apps/ (and docs/ beside them), the cluster gets
// `flux create source bucket` with keys and a Kustomization on it; an
// overwritten object is applied (downloading that object alone), a deleted
// one pruned; after the controller restarts, which forgets what it
// fetched, the next new revision downloads everything again.
func TestBucketFlow(t *testing.T) {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	sys := "bucket-" + hex.EncodeToString(suffix)
	t.Cleanup(func() { removeInstall(t, sys) })
	mustFlux(t, "install", "-n", sys, "--timeout", "3m")
	kubeconfig, storage := serviceAccountKubeconfig(t, sys, "driftless-controller"), t.TempDir()
	ctrl := startController(t, kubeconfig, "--storage-path", storage)

	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "fleet")
	files := appFiles("hello")
	files["deploy/api.yaml"] = strings.ReplaceAll(files["deploy/deployment.yaml"], "web", "api")
	files["deploy/kustomization.yaml"] = "resources:\n- configmap.yaml\n- deployment.yaml\n- api.yaml\n"
	for name, content := range files {
		s.Put(t, "fleet", "apps/"+strings.TrimPrefix(name, "deploy/"), []byte(content))
	}
	s.Put(t, "fleet", "docs/readme.md", []byte("# not applied\n"))

	ns := env.Namespace(t)
	target := ns + "-apps"
	createNamespace(t, target)
	proxy := s.NewCountingProxy(t)
	out := mustFlux(t, "-n", ns, "create", "source", "bucket", "fleet", "--bucket-name", "fleet", "--endpoint", proxy.Endpoint(),
		"--access-key", s.AccessKey, "--secret-key", s.SecretKey, "--insecure", "--interval", "1h")
	if strings.Contains(out, s.SecretKey) {
		t.Errorf("create source bucket printed the secret key:\n%s", out)
	}
	mustFlux(t, "-n", ns, "create", "kustomization", "apps", "--source", "Bucket/fleet", "--path", "./apps",
		"--prune", "--wait", "--target-namespace", target, "--interval", "1h")
	if got := configMapValue(t, target); got != "hello" {
		t.Fatalf("greeting = %q after create, want hello", got)
	}
	if out := mustFlux(t, "-n", ns, "get", "sources", "bucket"); !strings.Contains(out, "sha256:") {
		t.Errorf("get sources bucket shows no revision:\n%s", out)
	}

	// An overwritten object is applied, and is all that is downloaded.
	proxy.Reset()
	s.Put(t, "fleet", "apps/configmap.yaml", []byte(strings.ReplaceAll(files["deploy/configmap.yaml"], "hello", "bonjour")))
	mustFlux(t, "-n", ns, "reconcile", "kustomization", "apps", "--with-source")
	testcluster.Eventually(t, 2*time.Minute, "the overwrite applied", func() (bool, error) {
		return configMapValue(t, target) == "bonjour", nil
	})
	if n, one := objectGets(proxy), proxy.Gets("apps/configmap.yaml"); n != 1 || one != 1 {
		t.Errorf("after one overwrite: %d objects downloaded (%d of the changed one), want that one\n%s", n, one, strings.Join(proxy.Requests(), "\n"))
	}

	// A deleted object is pruned.
	s.Delete(t, "fleet", "apps/api.yaml")
	s.Put(t, "fleet", "apps/kustomization.yaml", []byte("resources:\n- configmap.yaml\n- deployment.yaml\n"))
	mustFlux(t, "-n", ns, "reconcile", "kustomization", "apps", "--with-source")
	testcluster.Eventually(t, 2*time.Minute, "api pruned", func() (bool, error) {
		_, err := env.Kube.AppsV1().Deployments(target).Get(context.Background(), "api", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := env.Kube.AppsV1().Deployments(target).Get(context.Background(), "web", metav1.GetOptions{}); err != nil {
		t.Errorf("Deployment web: %v", err)
	}

	// A restart forgets the last fetch: the next new revision is a full
	// fetch (the four objects left: apps/ three, docs/ one).
	ctrl.stop()
	startController(t, kubeconfig, "--storage-path", storage)
	proxy.Reset()
	s.Put(t, "fleet", "apps/configmap.yaml", []byte(strings.ReplaceAll(files["deploy/configmap.yaml"], "hello", "hallo")))
	mustFlux(t, "-n", ns, "reconcile", "kustomization", "apps", "--with-source")
	testcluster.Eventually(t, 2*time.Minute, "the change after the restart applied", func() (bool, error) {
		return configMapValue(t, target) == "hallo", nil
	})
	if n := objectGets(proxy); n != 4 {
		t.Errorf("after a restart: %d objects downloaded, want all 4\n%s", n, strings.Join(proxy.Requests(), "\n"))
	}
}

// objectGets is how many objects the proxy saw downloaded: every GET of a
// key but the .sourceignore each listing reads.
func objectGets(p *s3test.CountingProxy) int { return p.TotalGets() - p.Gets(".sourceignore") }
