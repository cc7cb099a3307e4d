package cli

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/internal/install"
)

// deploymentRunning is a controller Deployment named name with args.
func deploymentRunning(name string, args ...string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "manager", Args: append([]string{"--log-level=info"}, args...)}},
		}}},
	}
}

// TestCheckComponents checks source-watcher (and the defaults) in either
// layout, with an implemented list that has the group, as the image will.
func TestCheckComponents(t *testing.T) {
	implemented := slices.Clone(install.Implemented)
	if !slices.Contains(implemented, "source-watcher") {
		implemented = append(implemented, "source-watcher")
	}
	withWatcher := []string{"source", "kustomize", "helm", "notification", "source-watcher"}
	for _, tc := range []struct {
		name        string
		groups      []string
		deployments []*appsv1.Deployment
		ok          bool
		out         string
	}{{
		name:   "single layout running it",
		groups: withWatcher,
		deployments: []*appsv1.Deployment{deploymentRunning(install.DeploymentName,
			"--controllers=source,kustomize,helm,notification,source-watcher")},
		ok: true,
		out: "✔ source-controller: run by driftless-controller\n✔ kustomize-controller: run by driftless-controller\n" +
			"✔ helm-controller: run by driftless-controller\n✔ notification-controller: run by driftless-controller\n" +
			"✔ source-watcher: run by driftless-controller\n",
	}, {
		name:        "single layout running every group",
		groups:      []string{"source", "source-watcher"},
		deployments: []*appsv1.Deployment{deploymentRunning(install.DeploymentName)},
		ok:          true,
		out:         "✔ source-controller: run by driftless-controller\n✔ source-watcher: run by driftless-controller\n",
	}, {
		name:        "single layout installed without it",
		groups:      []string{"source", "source-watcher"},
		deployments: []*appsv1.Deployment{deploymentRunning(install.DeploymentName, "--controllers=source,kustomize,helm,notification")},
		out: "✔ source-controller: run by driftless-controller\n" +
			"✗ source-watcher: no controller Deployment in flux-system runs it; install it with flux install -n flux-system --components-extra source-watcher\n",
	}, {
		name:   "split layout with its Deployment",
		groups: []string{"source", "source-watcher"},
		deployments: []*appsv1.Deployment{deploymentRunning("source-controller", "--controllers=source"),
			deploymentRunning("source-watcher", "--controllers=source-watcher")},
		ok: true,
	}, {
		name:        "split layout without its Deployment",
		groups:      []string{"source", "kustomize", "source-watcher"},
		deployments: []*appsv1.Deployment{deploymentRunning("source-controller", "--controllers=source")},
		out: "✗ kustomize-controller: no controller Deployment in flux-system runs it; install it with flux install -n flux-system --components kustomize-controller\n" +
			"✗ source-watcher: no controller Deployment in flux-system runs it; install it with flux install -n flux-system --components-extra source-watcher\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if ok := checkComponents(&b, "flux-system", tc.groups, tc.deployments, implemented); ok != tc.ok {
				t.Errorf("checkComponents = %t, want %t", ok, tc.ok)
			}
			if b.String() != tc.out {
				t.Errorf("output:\n%s\nwant:\n%s", b.String(), tc.out)
			}
		})
	}
}

// TestCheckMissingComponent: an install without a component that check
// expects fails, naming the component and the flag that installs it; the
// same check without that component passes.
func TestCheckMissingComponent(t *testing.T) {
	ns := installNamespace(t)
	if _, stderr, err := runFlux(t, "", "install", "-n", ns, "--components", "source-controller,kustomize-controller"); err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	_, stderr, err := runFlux(t, "", "check", "-n", ns)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("check: want exit code 1, got %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"✔ kustomize-controller: run by driftless-controller",
		"✗ helm-controller: no controller Deployment in " + ns + " runs it; install it with flux install -n " + ns + " --components helm-controller",
		"✗ notification-controller: no controller Deployment in " + ns + " runs it",
		"✗ check failed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, stderr)
		}
	}
	_, stderr, err = runFlux(t, "", "check", "-n", ns, "--components", "source-controller,kustomize-controller")
	if err != nil || !strings.Contains(stderr, "✔ all checks passed") {
		t.Errorf("check --components source-controller,kustomize-controller: %v\n%s", err, stderr)
	}
}
