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
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// TestLockdownShard runs on the shard started with --no-cross-namespace-refs
// and --default-service-account=tenant-reconciler: a source in another
// namespace is refused, and a Kustomization without serviceAccountName acts
// as the default account, which has no rights. The main controllers, which
// watch only objects without the shard label, never touch these objects.
func TestLockdownShard(t *testing.T) {
	nsA, nsB := env.Namespace(t), env.Namespace(t)
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: locked}\n"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	shard := map[string]string{shardLabel: "lockdown"}
	for _, ns := range []string{nsA, nsB} {
		src := &sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "repo", Namespace: ns, Labels: shard},
			Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: 3600e9},
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
		}
		if err := kube.Create(context.Background(), src); err != nil {
			t.Fatal(err)
		}
	}
	ks := func(name, sourceNS string) *kustomizev1.Kustomization {
		return &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: nsB, Labels: shard},
			Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: 3600e9}, Prune: true, TargetNamespace: nsB,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo", Namespace: sourceNS}},
		}
	}
	for _, k := range []*kustomizev1.Kustomization{ks("cross", nsA), ks("default-sa", "")} {
		if err := kube.Create(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}

	cross := waitKS(t, nsB, "cross", "Stalled AccessDenied", func(k *kustomizev1.Kustomization) bool {
		c := reconcile.Get(k, meta.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == meta.AccessDeniedReason
	})
	if msg := reconcile.Get(cross, meta.ReadyCondition).Message; !strings.Contains(msg, "cross-namespace references have been disabled") || !strings.Contains(msg, nsA) {
		t.Errorf("Ready message %q", msg)
	}

	denied := waitFailed(t, nsB, "default-sa", meta.ReconciliationFailedReason)
	if msg := reconcile.Get(denied, meta.ReadyCondition).Message; !strings.Contains(msg, "system:serviceaccount:"+nsB+":tenant-reconciler") {
		t.Errorf("the default service account was not impersonated: %q", msg)
	}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: nsB, Name: "locked"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("applied with the controller's own rights: %v", err)
	}
}
