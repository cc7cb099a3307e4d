package kustomization_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// TestKubeConfigSecretRef applies through a kubeconfig held in a Secret,
// as for a remote cluster (here the same cluster, reached that way).
func TestKubeConfigSecretRef(t *testing.T) {
	ns := env.Namespace(t)
	kubeconfig, err := os.ReadFile(env.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "remote", Namespace: ns}, Data: map[string][]byte{"value": kubeconfig}}
	if err := kube.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote-cm, namespace: " + ns + "}\n"}, "init")
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: remote}
spec:
  interval: 1h
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: repo}
  kubeConfig: {secretRef: {name: remote}}
`)
	waitReady(t, ns, "remote")
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "remote-cm"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("not applied through the kubeconfig secret: %v", err)
	}
}

// TestNewRevisionCancelsAHealthCheck: a Kustomization waits (timeout 10m)
// for a Deployment that can never become ready; the fix is committed and
// the wait gives way at once to the new revision.
func TestNewRevisionCancelsAHealthCheck(t *testing.T) {
	ns := env.Namespace(t)
	stuck := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {no-such-node: "true"}
      containers: [{name: app, image: example.com/web:1}]
`
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"web.yaml": stuck}, "stuck")
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app}
spec: {interval: 1h, timeout: 10m, prune: true, wait: true, sourceRef: {kind: GitRepository, name: repo}}
`)
	waitKS(t, ns, "app", "health check running", func(k *kustomizev1.Kustomization) bool {
		c := reconcile.Get(k, meta.ReconcilingCondition)
		return c != nil && c.Status == metav1.ConditionTrue && strings.Contains(c.Message, "Running health checks")
	})
	fixed := repo.CommitFiles("main", map[string]string{"web.yaml": deploymentYAML("web", ns)}, "fixed")
	start := time.Now()
	controllertest.RequestReconcile(t, kube, repoNamed(ns, "repo"), "fixed")
	k := waitKS(t, ns, "app", "Ready at the fixed revision", func(k *kustomizev1.Kustomization) bool {
		return reconcile.IsTrue(k, meta.ReadyCondition) && k.Status.LastAppliedRevision == "main@sha1:"+fixed
	})
	if took := time.Since(start); took > 2*time.Minute {
		t.Errorf("took %s: the old health check was not cancelled", took)
	}
	if h := reconcile.Get(k, meta.HealthyCondition); h == nil || h.Status != metav1.ConditionTrue {
		t.Errorf("Healthy = %+v", h)
	}
}
