package kustomization_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestBadInputFailsClearly moves a working Kustomization to a broken path:
// Ready=False with Flux's reason and a message naming the file or object, a
// Warning event, nothing applied from the failed build, nothing pruned.
func TestBadInputFailsClearly(t *testing.T) {
	encrypted := testcluster.ReadRepoFile(t, "internal/engine/sops/testdata/encrypted/secret-stringdata.yaml")
	otherKey := testcluster.ReadRepoFile(t, "internal/engine/sops/testdata/keys/age-b.agekey")
	ns := env.Namespace(t)
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + "}\ndata: {k: v}\n"
	}
	files := map[string]string{
		"malformed/ok.yaml":          cm("from-malformed"),
		"malformed/broken.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n  data: [",
		"nobuild/kustomization.yaml": "resources: [ok.yaml, missing.yaml]\n",
		"nobuild/ok.yaml":            cm("from-nobuild"),
		"undefined/cm.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: needs-var, namespace: " + ns + "}\ndata: {v: \"${not_defined}\"}\n",
		"nocrd/ok.yaml":              cm("from-nocrd"),
		"nocrd/widget.yaml":          "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gadget, namespace: " + ns + "}\n",
		"sops/kustomization.yaml":    "resources: [secret.enc.yaml]\nnamespace: " + ns + "\n",
		"sops/secret.enc.yaml":       string(encrypted),
		"noobject/cm.yaml":           "kind: ConfigMap\nmetadata: {name: no-api-version}\n",
	}
	cases := []struct{ name, path, reason, text string }{
		{"malformed-yaml", "./malformed", meta.BuildFailedReason, "broken.yaml"},
		{"does-not-build", "./nobuild", meta.BuildFailedReason, "missing.yaml"},
		{"undefined-variable", "./undefined", meta.BuildFailedReason, "not_defined"},
		{"missing-crd", "./nocrd", meta.ReconciliationFailedReason, "Widget"},
		{"missing-path", "./nowhere", meta.ArtifactFailedReason, "nowhere"},
		{"sops-wrong-key", "./sops", meta.BuildFailedReason, "api-token"},
		{"object-without-apiversion", "./noobject", meta.BuildFailedReason, "cm.yaml"},
	}
	for _, tc := range cases {
		files["good/"+tc.name+"/cm.yaml"] = cm("keep-" + tc.name)
	}
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", files, "good and bad paths")
	gitSource(t, ns, "repo", repo)
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "wrong-age-key", Namespace: ns}, Data: map[string][]byte{"other.agekey": otherKey}}
	if err := kube.Create(context.Background(), key); err != nil {
		t.Fatal(err)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks := &kustomizev1.Kustomization{
				ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: ns},
				Spec: kustomizev1.KustomizationSpec{
					Interval: metav1.Duration{Duration: 3600e9}, Prune: true, Path: "./good/" + tc.name,
					SourceRef:  kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
					Decryption: &kustomizev1.Decryption{Provider: "sops", SecretRef: &meta.LocalObjectReference{Name: "wrong-age-key"}},
				},
			}
			if tc.name == "undefined-variable" {
				// Substitution runs only with a postBuild, and is strict by default.
				ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"defined": "yes"}}
			}
			if err := kube.Create(context.Background(), ks); err != nil {
				t.Fatal(err)
			}
			waitReady(t, ns, tc.name)
			cur := getKS(t, ns, tc.name)
			cur.Spec.Path = tc.path
			if err := kube.Update(context.Background(), cur); err != nil {
				t.Fatal(err)
			}
			failed := waitFailed(t, ns, tc.name, tc.reason)
			msg := reconcile.Get(failed, meta.ReadyCondition).Message
			if !strings.Contains(msg, tc.text) {
				t.Errorf("Ready message %q does not name %q", msg, tc.text)
			}
			if strings.Contains(msg, "/tmp/") {
				t.Errorf("Ready message leaks a temporary path: %q", msg)
			}
			if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "keep-" + tc.name}, &corev1.ConfigMap{}); err != nil {
				t.Errorf("a failed reconciliation pruned the previous objects: %v", err)
			}
			for _, name := range []string{"from-malformed", "from-nobuild", "from-nocrd", "needs-var"} {
				err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &corev1.ConfigMap{})
				if !apierrors.IsNotFound(err) {
					t.Errorf("%s was applied from a failed reconciliation (%v)", name, err)
				}
			}
			if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "api-token"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
				t.Errorf("a Secret that could not be decrypted was applied (%v)", err)
			}
			controllertest.WaitEvent(t, env.Kube, ksNamed(ns, tc.name), "Warning", "", tc.text)
		})
	}
}
