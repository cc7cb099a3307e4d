package kustomization_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestMissionTenantExample applies ../shared/mission/examples/06 as written:
// the tenant's objects are applied as its ServiceAccount inside its
// namespace, and anything outside it is denied with a clear message.
func TestMissionTenantExample(t *testing.T) {
	example := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/06-tenant-payments.yaml")
	const ns = "tenant-payments"
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{
		"deploy/app.yaml":    deploymentYAML("payments", "anywhere"),
		"deploy/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: payments-config}\ndata: {mode: live}\n",
	}, "tenant app")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	// The example's GitRepository points at GitHub; serve the same content locally.
	applyYAML(t, ns, strings.ReplaceAll(string(example), "https://github.com/payments-team/payments-app", srv.RepoURL(repo.Name())))

	ks := waitReady(t, ns, "payments-app")
	var cm corev1.ConfigMap
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "payments-config"}, &cm); err != nil {
		t.Fatalf("the tenant's ConfigMap was not applied in its namespace: %v", err)
	}
	if len(ks.Status.Inventory.Entries) != 2 {
		t.Errorf("inventory %+v", ks.Status.Inventory.Entries)
	}

	// The tenant reaches outside its namespace: a cluster-scoped object.
	repo.CommitFiles("main", map[string]string{
		"deploy/escape.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: tenant-escape}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n",
	}, "escape attempt")
	controllertest.RequestReconcile(t, kube, repoNamed(ns, "payments-app"), "escape")
	failed := waitFailed(t, ns, "payments-app", meta.ReconciliationFailedReason)
	msg := reconcile.Get(failed, meta.ReadyCondition).Message
	for _, want := range []string{"ClusterRole/tenant-escape", "forbidden", "system:serviceaccount:tenant-payments:payments-flux"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q lacks %q", msg, want)
		}
	}
	if _, err := env.Kube.RbacV1().ClusterRoles().Get(context.Background(), "tenant-escape", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ClusterRole was created: %v", err)
	}
	// The failure pruned nothing.
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "payments-config"}, &cm); err != nil {
		t.Errorf("a failed reconciliation removed the tenant's ConfigMap: %v", err)
	}
	controllertest.WaitEvent(t, env.Kube, ksNamed(ns, "payments-app"), "Warning", "", "forbidden")
}
