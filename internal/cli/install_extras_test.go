package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// TestInstallRegistryCreds installs with --registry-creds: the image pull
// Secret is created with the credentials for --registry, and the controller
// references it.
func TestInstallRegistryCreds(t *testing.T) {
	ns := installNamespace(t)
	_, stderr, err := runFlux(t, "", "install", "-n", ns, "--registry", "registry.local/mirror",
		"--image-pull-secret", "regcred", "--registry-creds", "robot:pa:ss")
	if err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	for _, want := range []string{"► generating image pull secret regcred", "✔ install finished"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("install output lacks %q:\n%s", want, stderr)
		}
	}
	ctx := context.Background()
	var s corev1.Secret
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "regcred"}, &s); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
		t.Fatal(err)
	}
	entry := cfg.Auths["registry.local/mirror"]
	if s.Type != corev1.SecretTypeDockerConfigJson || entry.Username != "robot" || entry.Password != "pa:ss" || entry.Auth != "cm9ib3Q6cGE6c3M=" {
		t.Fatalf("pull secret type %s, config %s", s.Type, s.Data[corev1.DockerConfigJsonKey])
	}
	var d appsv1.Deployment
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &d); err != nil {
		t.Fatal(err)
	}
	pod := d.Spec.Template.Spec
	if len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "regcred" ||
		!strings.HasPrefix(pod.Containers[0].Image, "registry.local/mirror/") {
		t.Fatalf("deployment pulls %s with %v", pod.Containers[0].Image, pod.ImagePullSecrets)
	}
}

// TestInstallRegistryCredsBadFlags: refused before any cluster access
// (the kubeconfig leads nowhere), with or without --export.
func TestInstallRegistryCredsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "--registry-creds", "u:p"}, "--registry-creds requires --image-pull-secret"},
		{[]string{"install", "--export", "--registry-creds", "u:p"}, "--registry-creds requires --image-pull-secret"},
		{[]string{"install", "--registry-creds", "userpass", "--image-pull-secret", "regcred"}, "invalid --registry-creds format, expected 'user:password'"},
		{[]string{"install", "--registry-creds", ":p", "--image-pull-secret", "regcred"}, "invalid --registry-creds format"},
		{[]string{"install", "--registry-creds", "u:p", "--image-pull-secret", "Reg_Cred"}, `invalid --image-pull-secret "Reg_Cred"`},
	} {
		_, _, err := runFluxNoCluster(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestInstallForceTakesOverHelm makes the installed CRDs look managed by
// Helm: install asks before overriding, does nothing when told no, and with
// --force takes over Helm's fields, so that Helm's labels go and the next
// install no longer asks.
func TestInstallForceTakesOverHelm(t *testing.T) {
	ns := installNamespace(t)
	ctx := context.Background()
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	crd.SetName(crdProbe)
	helmLabels := []byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":"Helm","helm.sh/chart":"flux2-2.16.0"}}}`)
	if err := kube.Patch(ctx, crd, client.RawPatch(types.MergePatchType, helmLabels), client.FieldOwner("helm")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unlabel := []byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":null,"helm.sh/chart":null}}}`)
		_ = kube.Patch(context.Background(), crd, client.RawPatch(types.MergePatchType, unlabel))
	})

	_, stderr, err := runFlux(t, "n\n", "install", "-n", ns)
	if err == nil || !strings.Contains(err.Error(), "installation cancelled") {
		t.Fatalf("declined install: %v\n%s", err, stderr)
	}
	for _, want := range []string{"has been installed on this cluster with Helm!",
		"Are you sure you want to override the Helm installation? [y/N]"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("declined install output lacks %q:\n%s", want, stderr)
		}
	}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a declined install created the controller (err %v)", err)
	}

	_, stderr, err = runFlux(t, "", "install", "-n", ns, "--force")
	if err != nil {
		t.Fatalf("install --force: %v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "[y/N]") || !strings.Contains(stderr, "► taking over the fields managed by helm") {
		t.Errorf("install --force output:\n%s", stderr)
	}
	if err := kube.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
		t.Fatal(err)
	}
	if _, ok := crd.Labels["helm.sh/chart"]; ok || crd.Labels["app.kubernetes.io/managed-by"] != "" {
		t.Errorf("Helm's labels are still on the CRD: %v", crd.Labels)
	}
	for _, e := range crd.ManagedFields {
		if e.Manager == "helm" {
			t.Errorf("helm still manages fields of the CRD: %s", e.FieldsV1.Raw)
		}
	}

	_, stderr, err = runFlux(t, "", "install", "-n", ns)
	if err != nil || strings.Contains(stderr, "has been installed on this cluster with") {
		t.Fatalf("install after the takeover: %v\n%s", err, stderr)
	}
}
