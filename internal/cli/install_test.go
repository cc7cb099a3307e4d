package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// crdSpecRE matches the spec of a CustomResourceDefinition in install's
// export, down to the next document: the CRDs are covered by config's
// tests, the golden keeps only their names.
var crdSpecRE = regexp.MustCompile(`(?ms)^(kind: CustomResourceDefinition\n.*?)^spec:\n.*?(^---\n|\z)`)

func TestInstallExport(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"install/export-default.yaml", []string{"install", "--export"}},
		{"install/export-options.yaml", []string{"install", "--export", "-n", "gitops",
			"--components", "source-controller,kustomize-controller", "--network-policy=false",
			"--registry", "registry.local/mirror", "--image-pull-secret", "regcred", "--log-level", "debug",
			"--watch-all-namespaces=false", "--toleration-keys", "dedicated", "--cluster-domain", "corp.example",
			"-v", "v9.9.9"}},
		{"install/export-multi-tenant.yaml", []string{"install", "--export", "--multi-tenant", "-n", "gitops"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			// No --kubeconfig: --export must not need a cluster.
			stdout, stderr, err := runFluxNoCluster(t, tc.args...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", tc.args, err, stderr)
			}
			if !strings.Contains(stdout, "kind: CustomResourceDefinition") || !strings.Contains(stdout, "kind: Deployment") {
				t.Fatalf("export lacks the CRDs or the Deployment:\n%s", stdout)
			}
			compareCLIGolden(t, tc.golden, crdSpecRE.ReplaceAllString(stdout, "${1}spec: {} # elided\n${2}"))
		})
	}
}

func TestInstallRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "--export", "--components", "flagger"}, `unknown component "flagger"`},
		{[]string{"install", "--export", "--components="}, "no implemented controller selected"},
		{[]string{"install", "--export", "--log-level", "trace"}, `invalid log level "trace"`},
		{[]string{"install", "--export", "--multi-tenant", "--components="}, "no implemented controller selected"},
	} {
		_, _, err := runFluxNoCluster(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// runFluxNoCluster runs the command line with a kubeconfig that leads
// nowhere (the last --kubeconfig wins), so that any cluster access fails.
func runFluxNoCluster(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runFlux(t, "", append([]string{"--kubeconfig", "/nonexistent/kubeconfig"}, args...)...)
}

func TestInstall(t *testing.T) {
	ns := installNamespace(t)
	_, stderr, err := runFlux(t, "", "install", "-n", ns, "--components-extra", "image-automation-controller")
	if err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"✚ generating manifests",
		"► installing components in " + ns + " namespace",
		"Namespace/" + ns + " configured",
		"CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io ",
		"Deployment/" + ns + "/driftless-controller created",
		"◎ verifying installation",
		"✔ driftless-controller: deployment ready",
		"✔ install finished",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("install output lacks %q:\n%s", want, stderr)
		}
	}
	ctx := context.Background()
	var d appsv1.Deployment
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &d); err != nil {
		t.Fatal(err)
	}
	if !deploymentAvailable(&d) {
		t.Errorf("deployment not available after install: %+v", d.Status)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/driftless/driftless-controller:v0.0.0-test" {
		t.Errorf("image %s", img)
	}
	for _, key := range []client.ObjectKey{{Namespace: ns, Name: "source-controller"}, {Namespace: ns, Name: install.DeploymentName}} {
		if err := kube.Get(ctx, key, &corev1.Service{}); err != nil {
			t.Errorf("service %s: %v", key, err)
		}
	}
	var nsObj corev1.Namespace
	if err := kube.Get(ctx, client.ObjectKey{Name: ns}, &nsObj); err != nil {
		t.Fatal(err)
	}
	if l := nsObj.Labels; l[install.PartOfLabel] != "flux" || l[install.InstanceLabel] != ns || l[install.VersionLabel] != "v0.0.0-test" {
		t.Errorf("namespace labels %v", l)
	}

	// A second install changes nothing.
	_, stderr, err = runFlux(t, "", "install", "-n", ns, "--components-extra", "image-automation-controller")
	if err != nil {
		t.Fatalf("second install: %v\n%s", err, stderr)
	}
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasSuffix(line, " created") || strings.HasSuffix(line, " configured") {
			t.Errorf("second install changed something: %s", line)
		}
	}
	if !strings.Contains(stderr, "Deployment/"+ns+"/driftless-controller unchanged") {
		t.Errorf("second install output:\n%s", stderr)
	}
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.ObservedGeneration == d.Generation
		}
	}
	return false
}

// installNamespace is a fresh namespace to install into; the cluster-scoped
// objects an install there creates (its ClusterRoles and bindings) are
// deleted when the test ends. The CRDs stay: other tests use them.
func installNamespace(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	t.Cleanup(func() {
		sel := metav1.ListOptions{LabelSelector: install.InstanceLabel + "=" + ns}
		ctx := context.Background()
		rbac := env.Kube.RbacV1()
		_ = rbac.ClusterRoleBindings().DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
		_ = rbac.ClusterRoles().DeleteCollection(ctx, metav1.DeleteOptions{}, sel)
	})
	return ns
}
