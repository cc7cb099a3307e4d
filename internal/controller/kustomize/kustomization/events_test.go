package kustomization_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestUpstreamChangesReconcileAtOnce: a labelled ConfigMap the
// Kustomization substitutes from, and a new commit, each reconcile it with
// no request and no interval (the interval here is an hour).
func TestUpstreamChangesReconcileAtOnce(t *testing.T) {
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: out, namespace: " + ns + "}\ndata: {color: \"${color}\"}\n",
	}, "init")
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: v1
kind: ConfigMap
metadata: {name: vars, labels: {reconcile.fluxcd.io/watch: Enabled}}
data: {color: red}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app}
spec:
  interval: 1h
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  postBuild: {substituteFrom: [{kind: ConfigMap, name: vars}]}
`)
	waitReady(t, ns, "app")
	ctx := context.Background()
	color := func(want string) {
		t.Helper()
		testcluster.Eventually(t, 30*time.Second, "color "+want, func() (bool, error) {
			var out corev1.ConfigMap
			err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "out"}, &out)
			return err == nil && out.Data["color"] == want, err
		})
	}
	color("red")

	var vars corev1.ConfigMap
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "vars"}, &vars); err != nil {
		t.Fatal(err)
	}
	vars.Data["color"] = "blue"
	if err := kube.Update(ctx, &vars); err != nil {
		t.Fatal(err)
	}
	color("blue")

	// A new commit: the GitRepository is asked once, the Kustomization follows by itself.
	hash := repo.CommitFiles("main", map[string]string{
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: out, namespace: " + ns + "}\ndata: {color: \"${color}-v2\"}\n",
	}, "v2")
	controllertest.RequestReconcile(t, kube, repoNamed(ns, "repo"), "v2")
	color("blue-v2")
	waitKS(t, ns, "app", "new revision applied", func(k *kustomizev1.Kustomization) bool {
		return k.Status.LastAppliedRevision == "main@sha1:"+hash
	})
}

func TestReadyExprAndDeletionPolicy(t *testing.T) {
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base, namespace: " + ns + "}\n",
		"app/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: " + ns + "}\n",
	}, "init")
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: base, labels: {tier: platform}}
spec: {interval: 1h, prune: true, path: ./base, sourceRef: {kind: GitRepository, name: repo}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app}
spec:
  interval: 1h
  prune: true
  deletionPolicy: Orphan
  path: ./app
  sourceRef: {kind: GitRepository, name: repo}
  dependsOn:
    - name: base
      readyExpr: "dep.metadata.labels.tier == 'platform' && dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')"
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-expr}
spec:
  interval: 1h
  prune: true
  path: ./app
  sourceRef: {kind: GitRepository, name: repo}
  dependsOn: [{name: base, readyExpr: "dep.status.conditions.exists(c, "}]
`)
	waitReady(t, ns, "app")
	bad := waitKS(t, ns, "bad-expr", "Stalled", func(k *kustomizev1.Kustomization) bool { return reconcile.IsTrue(k, meta.StalledCondition) })
	if c := reconcile.Get(bad, meta.ReadyCondition); c.Reason != meta.InvalidCELExpressionReason || !strings.Contains(c.Message, "readyExpr") {
		t.Errorf("a malformed readyExpr: %s %q", c.Reason, c.Message)
	}

	ctx := context.Background()
	// Orphan: deleting the Kustomization leaves its objects.
	if err := kube.Delete(ctx, getKS(t, ns, "app")); err != nil {
		t.Fatal(err)
	}
	gone := func(name string) func() (bool, error) {
		return func() (bool, error) {
			err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &kustomizev1.Kustomization{})
			return apierrors.IsNotFound(err), nil
		}
	}
	testcluster.Eventually(t, 30*time.Second, "app deleted", gone("app"))
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("deletionPolicy Orphan deleted the applied ConfigMap: %v", err)
	}
	// MirrorPrune with prune: true: deleting the Kustomization deletes its objects.
	if err := kube.Delete(ctx, getKS(t, ns, "base")); err != nil {
		t.Fatal(err)
	}
	testcluster.Eventually(t, 30*time.Second, "base deleted", gone("base"))
	testcluster.Eventually(t, 30*time.Second, "base ConfigMap pruned", func() (bool, error) {
		err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "base"}, &corev1.ConfigMap{})
		return apierrors.IsNotFound(err), nil
	})
}
