package cli

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// watcherRuns tells whether the image runs the source-watcher group yet:
// until it does, --components-extra source-watcher is accepted, reported
// and installs nothing; from then on it installs the component. The tests
// below hold in both states, so that they need no edit when it lands.
func watcherRuns() bool { return slices.Contains(install.Implemented, "source-watcher") }

func TestInstallExportSourceWatcher(t *testing.T) {
	const (
		src = "source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."
		sw  = "source-watcher.$(RUNTIME_NAMESPACE).svc.cluster.local."
	)
	for _, tc := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"install", "--export", "--components-extra", "source-watcher"},
			[]string{"--controllers=source,kustomize,helm,notification,source-watcher"}},
		{[]string{"install", "--export", "--split", "--components-extra", "source-watcher"},
			[]string{"  name: source-watcher\n", "--controllers=source-watcher", "--storage-adv-addr=" + sw,
				"--artifact-servers=" + src + "," + sw, "app: source-watcher\n"}},
	} {
		stdout, stderr, err := runFluxNoCluster(t, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, stderr)
		}
		if !strings.Contains(stdout, "name: artifactgenerators.source.extensions.fluxcd.io") {
			t.Errorf("%v: no ArtifactGenerator CRD", tc.args)
		}
		for _, want := range tc.wants {
			if strings.Contains(stdout, want) != watcherRuns() {
				t.Errorf("%v: %q in the export is %t, want %t (the image runs source-watcher: %t)",
					tc.args, want, strings.Contains(stdout, want), watcherRuns(), watcherRuns())
			}
		}
	}
}

// TestInstallSourceWatcher installs the split layout with source-watcher
// and checks it: its Deployment ready and checked, or, before the image
// runs the group, the install and the check saying it is not implemented.
func TestInstallSourceWatcher(t *testing.T) {
	ns := installNamespace(t)
	_, stderr, err := runFlux(t, "", "install", "-n", ns, "--split", "--components-extra", "source-watcher")
	if err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	want := "⚠️ source-watcher is not implemented by Driftless yet; it is accepted but nothing runs it"
	if watcherRuns() {
		want = "✔ source-watcher: deployment ready"
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("install output lacks %q:\n%s", want, stderr)
	}
	_, stderr, err = runFlux(t, "", "check", "-n", ns, "--components-extra", "source-watcher")
	if err != nil {
		t.Fatalf("check --components-extra source-watcher: %v\n%s", err, stderr)
	}
	want = "⚠️ source-watcher: not implemented by Driftless yet, not checked"
	if watcherRuns() {
		want = "✔ source-watcher: deployment ready"
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("check output lacks %q:\n%s", want, stderr)
	}
	if !watcherRuns() {
		return
	}
	ctx := context.Background()
	var d appsv1.Deployment
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "source-watcher"}, &d); err != nil {
		t.Fatal(err)
	}
	if !deploymentAvailable(&d) {
		t.Errorf("source-watcher not available after install: %+v", d.Status)
	}
	var svc corev1.Service
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "source-watcher"}, &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Selector["app"] != "source-watcher" || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("source-watcher Service %+v", svc.Spec)
	}
}
