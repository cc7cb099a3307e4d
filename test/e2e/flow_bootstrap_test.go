package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// flowBootstrapTwice bootstraps into an empty repository over HTTP with
// basic auth, then again with the same flags: the second run must not
// commit and must say that everything is up to date.
func flowBootstrapTwice(t *testing.T) {
	repo := gittest.NewRepo(t)
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{Username: "fleet", Password: "s3cret"})
	args := []string{"bootstrap", "git", "--url", srv.RepoURL(repo.Name()), "--branch", "main", "--path", "clusters/e2e",
		"--username", "fleet", "--password", "s3cret", "--allow-insecure-http", "--silent", "--timeout", "3m"}
	code, out, errOut := flux(t, "", args...)
	if code != 0 {
		t.Fatalf("first bootstrap: exit %d\n%s%s", code, out, errOut)
	}
	head := repo.Head("main")
	for _, f := range []string{"gotk-components.yaml", "gotk-sync.yaml", "kustomization.yaml"} {
		if repo.Resolve("main:clusters/e2e/flux-system/"+f) == "" {
			t.Errorf("bootstrap did not push clusters/e2e/flux-system/%s", f)
		}
	}
	code, out, errOut = flux(t, "", args...)
	if code != 0 {
		t.Fatalf("second bootstrap: exit %d\n%s%s", code, out, errOut)
	}
	if again := repo.Head("main"); again != head {
		t.Errorf("second bootstrap moved main from %s to %s", head, again)
	}
	if !strings.Contains(out+errOut, "up to date") {
		t.Errorf("second bootstrap does not say it changed nothing:\n%s%s", out, errOut)
	}
	ready := mustFlux(t, "-n", "flux-system", "get", "kustomizations", "flux-system")
	if !strings.Contains(ready, "True") {
		t.Errorf("flux-system Kustomization not Ready after bootstrap:\n%s", ready)
	}
}

// flowUninstall removes Driftless and checks nothing of it is left, while
// what it applied for users stays.
func flowUninstall(t *testing.T, appNamespace string) {
	mustFlux(t, "uninstall", "--silent")
	ctx := context.Background()
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	testcluster.Eventually(t, 2*time.Minute, "no toolkit CRD left", func() (bool, error) {
		list, err := env.Dynamic.Resource(crds).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, crd := range list.Items {
			if strings.HasSuffix(crd.GetName(), ".toolkit.fluxcd.io") {
				return false, nil
			}
		}
		return true, nil
	})
	selector := metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=flux"}
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		{Version: "v1", Resource: "namespaces"},
	} {
		testcluster.Eventually(t, 2*time.Minute, "no "+gvr.Resource+" left", func() (bool, error) {
			list, err := env.Dynamic.Resource(gvr).List(ctx, selector)
			return err == nil && len(list.Items) == 0, err
		})
	}
	testcluster.Eventually(t, 2*time.Minute, "namespace flux-system gone", func() (bool, error) {
		_, err := env.Kube.CoreV1().Namespaces().Get(ctx, "flux-system", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	// Flux's promise: uninstalling the toolkit leaves the workloads it applied.
	if got := configMapValue(t, appNamespace); got == "" {
		t.Errorf("uninstall removed the application's ConfigMap")
	}
}
