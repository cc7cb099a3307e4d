package cli

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// Uninstall for real deletes the CRDs every test here shares: it is tested
// end to end in test/e2e. Here: the dry run, the prompt and the pure parts.

func TestUninstallDryRun(t *testing.T) {
	ns := installedNamespace(t)
	_, stderr, err := runFlux(t, "", "uninstall", "-n", ns, "--dry-run")
	if err != nil {
		t.Fatalf("uninstall --dry-run: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"► deleting components in " + ns + " namespace",
		"✔ Deployment/" + ns + "/driftless-controller deleted (dry run)",
		"✔ ServiceAccount/" + ns + "/driftless-controller deleted (dry run)",
		"✔ ClusterRoleBinding/cluster-reconciler-" + ns + " deleted (dry run)",
		"► deleting toolkit.fluxcd.io finalizers in all namespaces",
		"► deleting toolkit.fluxcd.io custom resource definitions",
		"✔ CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io deleted (dry run)",
		"✔ Namespace/" + ns + " deleted (dry run)",
		"✔ uninstall finished",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("uninstall --dry-run output lacks %q:\n%s", want, stderr)
		}
	}
	assertStillInstalled(t, ns)

	_, stderr, err = runFlux(t, "", "uninstall", "-n", ns, "--dry-run", "--keep-namespace")
	if err != nil || strings.Contains(stderr, "Namespace/"+ns) {
		t.Errorf("--keep-namespace: %v\n%s", err, stderr)
	}
}

func TestUninstallPromptDeclined(t *testing.T) {
	ns := installedNamespace(t)
	_, stderr, err := runFlux(t, "n\n", "uninstall", "-n", ns)
	if err == nil || err.Error() != "uninstall cancelled" {
		t.Fatalf("got %v, want uninstall cancelled", err)
	}
	if !strings.Contains(stderr, "Are you sure you want to delete Flux and its custom resource definitions? [y/N]") {
		t.Errorf("no prompt:\n%s", stderr)
	}
	assertStillInstalled(t, ns)
}

func assertStillInstalled(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &appsv1.Deployment{}); err != nil {
		t.Errorf("deployment gone: %v", err)
	}
	var n corev1.Namespace
	if err := kube.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil || n.DeletionTimestamp != nil {
		t.Errorf("namespace gone or terminating: %v", err)
	}
}

func TestFinalizersPatch(t *testing.T) {
	if got := string(finalizersPatch(nil)); got != `{"metadata":{"finalizers":null}}` {
		t.Errorf("no finalizers kept: %s", got)
	}
	if got := string(finalizersPatch([]string{"example.com/keep"})); got != `{"metadata":{"finalizers":["example.com/keep"]}}` {
		t.Errorf("one kept: %s", got)
	}
}

func TestUninstallKinds(t *testing.T) {
	objs, err := install.Render(install.DefaultOptions("v1"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, gvk := range componentKinds(objs) {
		kinds = append(kinds, gvk.Kind)
	}
	if got := strings.Join(kinds, ","); strings.Contains(got, "CustomResourceDefinition") || strings.Contains(got, "Namespace,") ||
		!strings.HasPrefix(got, "NetworkPolicy") || !strings.Contains(got, "Deployment") || !strings.Contains(got, "ClusterRole") {
		t.Errorf("component kinds %s", got)
	}
	if crds := installedCRDs(objs); len(crds) != 15 {
		t.Errorf("%d CRD kinds, want 15: %v", len(crds), crds)
	}
}
