package cli

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// TestInstallWebSecretsExport: --web-tls-secret and
// --web-auth-proxy-ca-secret point the controller at the mounted Secrets
// and grant the UI impersonate, with no cluster needed.
func TestInstallWebSecretsExport(t *testing.T) {
	stdout, stderr, err := runFluxNoCluster(t, "install", "--export", "--web-tls-secret=x", "--web-auth-proxy-ca-secret=y")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{
		"- --web-tls-cert=/etc/driftless/web-tls/tls.crt\n",
		"- --web-tls-key=/etc/driftless/web-tls/tls.key\n",
		"- --web-auth-proxy-ca=/etc/driftless/web-auth-proxy/ca.crt\n",
		// sigs.k8s.io/yaml quotes y, a YAML 1.1 boolean.
		"secretName: x\n", "secretName: \"y\"\n",
		"kind: ClusterRole\nmetadata:\n  labels:\n    app.kubernetes.io/component: driftless-web\n" +
			"    app.kubernetes.io/instance: flux-system\n    app.kubernetes.io/part-of: flux\n" +
			"    app.kubernetes.io/version: v0.0.0-test\n  name: driftless-web-impersonate-flux-system\n" +
			"rules:\n- apiGroups:\n  - \"\"\n  resources:\n  - users\n  - groups\n  verbs:\n  - impersonate\n",
		"kind: ClusterRoleBinding\nmetadata:\n",
		"  name: driftless-web-impersonate-flux-system\nroleRef:\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("export lacks %q", want)
		}
	}
	plain, stderr, err := runFluxNoCluster(t, "install", "--export")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, unwanted := range []string{"  - impersonate\n", "driftless-web-impersonate", "--web-tls-", "--web-auth-proxy-", "/etc/driftless/"} {
		if strings.Contains(plain, unwanted) {
			t.Errorf("a default export has %q", unwanted)
		}
	}
}

// TestInstallWebSecretsRefused: combinations that cannot work are refused
// before any cluster access (the kubeconfig leads nowhere), naming the
// flag to fix, with or without --export.
func TestInstallWebSecretsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "--export", "--web-auth-proxy-ca-secret=y"}, "--web-auth-proxy-ca-secret needs --web-tls-secret"},
		{[]string{"install", "--export", "--web=false", "--web-tls-secret=x"}, "--web-tls-secret needs the web UI (--web)"},
		{[]string{"install", "--export", "--web-tls-secret=X_Y"}, `invalid --web-tls-secret "X_Y"`},
	} {
		stdout, _, err := runFluxNoCluster(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
		if strings.Contains(stdout, "kind:") {
			t.Errorf("%v: printed manifests before refusing", tc.args)
		}
	}
}

// TestInstallWebSecretsRefusedBeforeApplying: without --export too, the
// combination is refused before anything is applied.
func TestInstallWebSecretsRefusedBeforeApplying(t *testing.T) {
	ns := installNamespace(t)
	_, stderr, err := runFlux(t, "", "install", "-n", ns, "--web-auth-proxy-ca-secret=y")
	if want := "--web-auth-proxy-ca-secret needs --web-tls-secret"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want an error containing %q\n%s", err, want, stderr)
	}
	assertNothingInstalled(t, ns)
}

// TestInstallWebSecretsBootstrapFlags: bootstrap shares the flags, so the
// manifests it commits can serve TLS behind a proxy too.
func TestInstallWebSecretsBootstrapFlags(t *testing.T) {
	stdout, stderr, err := runFluxNoCluster(t, "bootstrap", "git", "--help")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, flag := range []string{"--web-tls-secret string", "--web-auth-proxy-ca-secret string"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("bootstrap git --help lacks %s", flag)
		}
	}
}

// TestInstallWebSecretsApplied: the API server accepts the mounts and the
// grant, and an install without --web-auth-proxy-ca-secret revokes the
// grant an earlier one made.
func TestInstallWebSecretsApplied(t *testing.T) {
	ns := installNamespace(t)
	ctx := context.Background()
	_, stderr, err := runFlux(t, "", "install", "-n", ns, "--web-tls-secret=web-cert", "--web-auth-proxy-ca-secret=web-cert")
	if err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	var d appsv1.Deployment
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &d); err != nil {
		t.Fatal(err)
	}
	pod := d.Spec.Template.Spec
	var secrets []string
	for _, v := range pod.Volumes {
		if v.Secret != nil {
			secrets = append(secrets, v.Name+"="+v.Secret.SecretName)
		}
	}
	if want := []string{"web-tls=web-cert"}; !slices.Equal(secrets, want) {
		t.Errorf("secret volumes %q, want %q: one Secret, one volume", secrets, want)
	}
	args := pod.Containers[0].Args
	for _, want := range []string{"--web-tls-cert=/etc/driftless/web-tls/tls.crt", "--web-tls-key=/etc/driftless/web-tls/tls.key",
		"--web-auth-proxy-ca=/etc/driftless/web-tls/ca.crt"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	name := "driftless-web-impersonate-" + ns
	var binding rbacv1.ClusterRoleBinding
	if err := kube.Get(ctx, client.ObjectKey{Name: name}, &binding); err != nil {
		t.Fatal(err)
	}
	if len(binding.Subjects) != 1 || binding.Subjects[0].Namespace != ns || binding.Subjects[0].Name != install.DeploymentName {
		t.Errorf("%s binds %+v", name, binding.Subjects)
	}

	_, stderr, err = runFlux(t, "", "install", "-n", ns)
	if err != nil {
		t.Fatalf("second install: %v\n%s", err, stderr)
	}
	for _, obj := range []client.Object{&rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}} {
		if err := kube.Get(ctx, client.ObjectKey{Name: name}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s after an install without the proxy CA: err %v, want it deleted\n%s", obj, name, err, stderr)
		}
	}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Spec.Template.Spec.Volumes) != len(pod.Volumes)-1 {
		t.Errorf("the second install keeps volumes %+v", d.Spec.Template.Spec.Volumes)
	}
}
