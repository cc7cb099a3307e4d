package cli

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

func configMapYAML(data string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  value: " + data + "\n"
}

// servedRepo is a real Git repository with ./deploy holding a ConfigMap,
// served over HTTP.
func servedRepo(t *testing.T) (*gittest.Repo, string) {
	t.Helper()
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"deploy/configmap.yaml": configMapYAML("one")}, "first")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	return repo, srv.RepoURL(repo.Name())
}

func mustFlux(t *testing.T, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errOut, err := runFlux(t, stdin, args...)
	if err != nil {
		t.Fatalf("flux %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

func wantLines(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
	}
}

// TestLifecycle drives create, reconcile, suspend, resume and delete against
// the running controllers and a real Git server.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	repo, url := servedRepo(t)
	first := repo.Head("main")

	_, errOut := mustFlux(t, "", "create", "source", "git", "app", "-n", ns, "--url="+url, "--branch=main", "--timeout=2m")
	wantLines(t, errOut, "► applying GitRepository", "✔ GitRepository created", "◎ waiting for GitRepository reconciliation",
		"✔ fetched revision main@sha1:"+first)

	_, errOut = mustFlux(t, "", "create", "kustomization", "app", "-n", ns, "--source=GitRepository/app",
		"--path=./deploy", "--prune", "--target-namespace="+ns, "--interval=10m", "--timeout=2m")
	wantLines(t, errOut, "✔ Kustomization created", "✔ Kustomization app is ready", "✔ applied revision main@sha1:"+first)
	cm := &corev1.ConfigMap{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-config"}, cm); err != nil {
		t.Fatal(err)
	}

	// Applying the same flags again updates in place.
	_, errOut = mustFlux(t, "", "create", "source", "git", "app", "-n", ns, "--url="+url, "--branch=main", "--timeout=2m")
	wantLines(t, errOut, "✔ GitRepository updated")

	// A new commit: reconcile --with-source fetches and applies it now.
	second := repo.CommitFiles("main", map[string]string{"deploy/configmap.yaml": configMapYAML("two")}, "second")
	_, errOut = mustFlux(t, "", "reconcile", "ks", "app", "-n", ns, "--with-source", "--timeout=2m")
	wantLines(t, errOut, "► annotating GitRepository app in "+ns+" namespace", "✔ fetched revision main@sha1:"+second,
		"► annotating Kustomization app in "+ns+" namespace", "✔ applied revision main@sha1:"+second)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-config"}, cm); err != nil || cm.Data["value"] != "two" {
		t.Fatalf("ConfigMap after reconcile: %v %v", cm.Data, err)
	}
	ks := &kustomizev1.Kustomization{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, ks); err != nil {
		t.Fatal(err)
	}
	if token := ks.Annotations[meta.ReconcileRequestAnnotation]; token == "" || token != ks.Status.LastHandledReconcileAt {
		t.Errorf("requestedAt %q, lastHandledReconcileAt %q", token, ks.Status.LastHandledReconcileAt)
	}

	// Suspended objects refuse to reconcile and say how to resume.
	_, errOut = mustFlux(t, "", "suspend", "source", "git", "app", "-n", ns)
	wantLines(t, errOut, "► suspending source git app in "+ns+" namespace", "✔ source git suspended")
	_, _, err := runFlux(t, "", "reconcile", "source", "git", "app", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "is suspended: resume it first with 'flux resume source git app") {
		t.Fatalf("reconcile of a suspended source: %v", err)
	}
	mustFlux(t, "", "suspend", "ks", "--all", "-n", ns)
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, ks); err != nil || !ks.Spec.Suspend {
		t.Fatalf("suspend --all: suspend=%v %v", ks.Spec.Suspend, err)
	}

	// Resume waits for the reconciliation it asks for.
	_, errOut = mustFlux(t, "", "resume", "source", "git", "app", "-n", ns, "--timeout=2m")
	wantLines(t, errOut, "✔ source git resumed", "◎ waiting for GitRepository reconciliation", "✔ fetched revision main@sha1:"+second)
	_, errOut = mustFlux(t, "", "resume", "ks", "--all", "-n", ns, "--wait", "--timeout=2m")
	wantLines(t, errOut, "► resuming kustomization app in "+ns+" namespace", "✔ applied revision main@sha1:"+second)

	// Delete asks first; "n" keeps the object, "y" deletes it.
	_, _, err = runFlux(t, "n\n", "delete", "ks", "app", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "aborting") {
		t.Fatalf("delete answered no: %v", err)
	}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, ks); err != nil {
		t.Fatalf("kustomization gone after answering no: %v", err)
	}
	_, errOut = mustFlux(t, "y\n", "delete", "kustomization", "app", "-n", ns, "--timeout=2m")
	wantLines(t, errOut, "Are you sure you want to delete this kustomization? [y/N]", "✔ kustomization deleted")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, ks); !apierrors.IsNotFound(err) {
		t.Fatalf("kustomization still there: %v", err)
	}
	// Prune removed what the Kustomization applied.
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-config"}, cm); !apierrors.IsNotFound(err) {
		t.Errorf("pruned ConfigMap still there: %v", err)
	}
	mustFlux(t, "", "delete", "source", "git", "app", "-n", ns, "-s", "--timeout=2m")
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, &sourcev1.GitRepository{}); !apierrors.IsNotFound(err) {
		t.Fatalf("source still there: %v", err)
	}
}

// TestReconcileFailures covers a missing object, a failing reconciliation
// and a bounded wait.
func TestReconcileFailures(t *testing.T) {
	ns := env.Namespace(t)
	_, _, err := runFlux(t, "", "reconcile", "source", "git", "nope", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "not found: list them with 'flux get sources git -n "+ns+"'") {
		t.Fatalf("missing object: %v", err)
	}
	_, _, err = runFlux(t, "", "delete", "ks", "nope", "-n", ns, "-s")
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("delete missing object: %v", err)
	}
	_, _, err = runFlux(t, "", "resume", "ks", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "give either NAME or --all") {
		t.Fatalf("resume with no name: %v", err)
	}

	// A path that is not in the repository fails, and create says why.
	_, url := servedRepo(t)
	mustFlux(t, "", "create", "source", "git", "app", "-n", ns, "--url="+url, "--branch=main", "--timeout=2m")
	_, _, err = runFlux(t, "", "create", "ks", "broken", "-n", ns, "--source=app", "--path=./missing", "--timeout=2m")
	if err == nil || !strings.Contains(err.Error(), "Kustomization "+ns+"/broken reconciliation failed") {
		t.Fatalf("create of a failing Kustomization: %v", err)
	}
	// A branch that does not exist never gets Ready; --timeout bounds the wait.
	_, _, err = runFlux(t, "", "create", "source", "git", "nobranch", "-n", ns, "--url="+url, "--branch=nope", "--timeout=3s")
	if err == nil || !(strings.Contains(err.Error(), "reconciliation failed") || strings.Contains(err.Error(), "timed out")) {
		t.Fatalf("create of a source on a missing branch: %v", err)
	}
}
