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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestInstallLifecycle runs the built flux through install, check, version
// and uninstall in a namespace of its own, with a GitRepository that holds
// a toolkit finalizer and no controller to remove it: uninstall must leave
// no toolkit CRD, no object of the install and no namespace behind.
func TestInstallLifecycle(t *testing.T) {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	sys := "lifecycle-" + hex.EncodeToString(suffix)
	t.Cleanup(func() { removeInstall(t, sys) })

	if code, _, stderr := flux(t, "", "check", "-n", sys); code != 1 || !strings.Contains(stderr, "run flux install -n "+sys) {
		t.Errorf("check before install: exit %d\n%s", code, stderr)
	}
	mustFlux(t, "check", "--pre")
	mustFlux(t, "install", "-n", sys, "--timeout", "3m")
	if code, _, stderr := flux(t, "", "check", "-n", sys); code != 0 || !strings.Contains(stderr, "✔ all checks passed") {
		t.Errorf("check after install: exit %d\n%s", code, stderr)
	}
	want := "flux: v0.0.0-e2e\ndistribution: driftless-v0.0.0-e2e\ndriftless-controller: ghcr.io/driftless/driftless-controller:v0.0.0-e2e\n"
	if out := mustFlux(t, "version", "-n", sys); out != want {
		t.Errorf("version:\n%s\nwant:\n%s", out, want)
	}

	ns := env.Namespace(t)
	gitRepo := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "held", "namespace": ns, "finalizers": []any{"finalizers.fluxcd.io"}},
		"spec":     map[string]any{"url": "https://example.com/repo.git", "interval": "1h"},
	}}
	ctx := context.Background()
	if _, err := env.Dynamic.Resource(gitRepositories).Namespace(ns).Create(ctx, gitRepo, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := flux(t, "y\n", "uninstall", "-n", sys)
	if code != 0 {
		t.Fatalf("uninstall: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"✔ Deployment/" + sys + "/driftless-controller deleted",
		"✔ GitRepository/" + ns + "/held finalizers deleted",
		"✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted",
		"✔ Namespace/" + sys + " deleted",
		"✔ uninstall finished",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("uninstall output lacks %q:\n%s", want, stderr)
		}
	}

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
	selector := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + sys + ",app.kubernetes.io/part-of=flux"}
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Version: "v1", Resource: "serviceaccounts"},
		{Version: "v1", Resource: "services"},
	} {
		testcluster.Eventually(t, 2*time.Minute, "no "+gvr.Resource+" of the install left", func() (bool, error) {
			list, err := env.Dynamic.Resource(gvr).List(ctx, selector)
			return err == nil && len(list.Items) == 0, err
		})
	}
	testcluster.Eventually(t, 2*time.Minute, "namespace "+sys+" gone", func() (bool, error) {
		_, err := env.Kube.CoreV1().Namespaces().Get(ctx, sys, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if code, _, stderr := flux(t, "", "version", "-n", sys); code == 0 || !strings.Contains(stderr, "not installed in namespace "+sys) {
		t.Errorf("version after uninstall: exit %d\n%s", code, stderr)
	}
}
