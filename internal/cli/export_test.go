package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// TestExportReapplies exports reconciled objects, compares the YAML with
// golden files, then applies it to a fresh namespace and checks that the
// specs there equal the originals.
func TestExportReapplies(t *testing.T) {
	ns := readFixture(t)
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "git-auth", Namespace: ns},
		StringData: map[string]string{"username": "git", "password": "s3cret"}}
	if err := kube.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	withCreds := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "private", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: "https://git.example.com/private.git", Interval: metav1.Duration{Duration: time.Minute},
			Suspend: true, SecretRef: &meta.LocalObjectReference{Name: "git-auth"}},
	}
	if err := kube.Create(ctx, withCreds); err != nil {
		t.Fatal(err)
	}

	var all strings.Builder
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"export/source-git-all.yaml", []string{"export", "source", "git", "--all", "--with-credentials"}},
		{"export/kustomization-app.yaml", []string{"export", "kustomization", "app"}},
	} {
		out, errOut, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		for _, field := range []string{"status:", "uid:", "resourceVersion:", "generation:", "creationTimestamp:", "managedFields:", "finalizers:"} {
			if strings.Contains(out, field) {
				t.Errorf("%v: export keeps %s\n%s", tc.args, field, out)
			}
		}
		checkGolden(t, tc.golden, normalise(out, ns))
		all.WriteString(out)
	}
	if !strings.Contains(all.String(), "kind: Secret") {
		t.Errorf("--with-credentials did not export the Secret")
	}

	// Apply the export to another namespace.
	target := env.Namespace(t)
	for _, doc := range strings.Split(all.String(), "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("export is not YAML: %v\n%s", err, doc)
		}
		u.SetNamespace(target)
		if err := kube.Create(ctx, u); err != nil {
			t.Fatalf("re-applying %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	for _, name := range []string{"repo", "private"} {
		var a, b sourcev1.GitRepository
		mustGet(t, ns, name, &a)
		mustGet(t, target, name, &b)
		if !equality.Semantic.DeepEqual(a.Spec, b.Spec) || !equality.Semantic.DeepEqual(a.Labels, b.Labels) {
			t.Errorf("GitRepository %s: re-applied spec %+v differs from %+v", name, b.Spec, a.Spec)
		}
	}
	var ka, kb kustomizev1.Kustomization
	mustGet(t, ns, "app", &ka)
	mustGet(t, target, "app", &kb)
	if !equality.Semantic.DeepEqual(ka.Spec, kb.Spec) {
		t.Errorf("Kustomization: re-applied spec %+v differs from %+v", kb.Spec, ka.Spec)
	}
	var sb corev1.Secret
	mustGet(t, target, "git-auth", &sb)
	if string(sb.Data["password"]) != "s3cret" {
		t.Errorf("re-applied Secret has data %v", sb.Data)
	}
}

func TestExportErrors(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "source", "git"}, "name is required"},
		{[]string{"export", "ks", "app", "--all"}, "not both"},
		{[]string{"export", "kustomization", "nope"}, `Kustomization "nope" not found in namespace "` + ns + `"`},
	} {
		if _, _, err := runFlux(t, "", append([]string{"-n", ns}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want error containing %q, got %v", tc.args, tc.want, err)
		}
	}
	out, errOut, err := runFlux(t, "", "-n", ns, "export", "ks", "--all")
	if err != nil || out != "" || !strings.Contains(errOut, "no Kustomization objects found") {
		t.Errorf("export --all of nothing: out %q, err %q, %v", out, errOut, err)
	}
}

func mustGet(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
}
