package kustomization_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestDriftPruneAndOwnership: a kubectl edit is reverted, a file removed
// from Git is pruned, and an object another Kustomization owns is left alone.
func TestDriftPruneAndOwnership(t *testing.T) {
	ns := env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"app/web.yaml":    deploymentYAML("web", ns),
		"app/extra.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: " + ns + "}\ndata: {k: v}\n",
		"other/keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: " + ns + "}\ndata: {owner: other}\n",
	}, "init")
	gitSource(t, ns, "repo", repo)
	applyYAML(t, ns, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app}
spec: {interval: 1h, prune: true, path: ./app, sourceRef: {kind: GitRepository, name: repo}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: other}
spec: {interval: 1h, prune: true, path: ./other, sourceRef: {kind: GitRepository, name: repo}}
`)
	waitReady(t, ns, "app")
	waitReady(t, ns, "other")
	ctx := context.Background()

	// A kubectl edit: an update by field manager kubectl-edit.
	var web appsv1.Deployment
	testcluster.Eventually(t, 30*time.Second, "kubectl edit (retried on conflicts)", func() (bool, error) {
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &web); err != nil {
			return false, err
		}
		web.Spec.Replicas = ptr.To[int32](5)
		err := kube.Update(ctx, &web, client.FieldOwner("kubectl-edit"))
		return err == nil, err
	})
	controllertest.RequestReconcile(t, kube, ksNamed(ns, "app"), "revert")
	waitKS(t, ns, "app", "drift reverted", func(k *kustomizev1.Kustomization) bool { return k.Status.LastHandledReconcileAt == "revert" })
	testcluster.Eventually(t, 30*time.Second, "replicas back to 1", func() (bool, error) {
		err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &web)
		return err == nil && *web.Spec.Replicas == 1, err
	})
	for _, mf := range web.ManagedFields {
		if mf.Manager == "kubectl-edit" {
			t.Errorf("kubectl-edit still manages fields: %+v", mf)
		}
	}

	// Another Kustomization's object in the same namespace, and a file removed from Git.
	repo.RemoveFiles("main", []string{"app/extra.yaml"}, "drop extra")
	controllertest.RequestReconcile(t, kube, repoNamed(ns, "repo"), "drop-extra")
	testcluster.Eventually(t, 60*time.Second, "extra pruned", func() (bool, error) {
		err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "extra"}, &corev1.ConfigMap{})
		return apierrors.IsNotFound(err), nil
	})
	k := waitReady(t, ns, "app")
	for _, e := range k.Status.Inventory.Entries {
		if e.ID == ns+"_extra__ConfigMap" {
			t.Errorf("pruned object still in the inventory")
		}
	}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "theirs"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("the other Kustomization's ConfigMap was touched: %v", err)
	}
	// An object the app Kustomization never applied, without its labels, survives a prune too.
	stray := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: ns}}
	if err := kube.Create(ctx, stray); err != nil {
		t.Fatal(err)
	}
	controllertest.RequestReconcile(t, kube, ksNamed(ns, "app"), "again")
	waitKS(t, ns, "app", "handled", func(k *kustomizev1.Kustomization) bool { return k.Status.LastHandledReconcileAt == "again" })
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "stray"}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("an object Driftless did not create was deleted: %v", err)
	}
}
