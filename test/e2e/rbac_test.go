package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestInstalledRBACIsEnough: the install manifests' RBAC is enough. The
// controller runs as a process with only the installed ServiceAccount's
// token (leader election on, in its own namespace) and reconciles a
// GitRepository and a Kustomization that applies a ConfigMap and a
// Deployment to another namespace. Then the least-privilege split is
// checked: without the cluster-reconciler binding the same account may
// manage the toolkit kinds but not create Deployments.
func TestInstalledRBACIsEnough(t *testing.T) {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	sys := "rbac-system-" + hex.EncodeToString(suffix)
	t.Cleanup(func() { removeInstall(t, sys) })
	mustFlux(t, "install", "-n", sys, "--components", "source-controller,kustomize-controller", "--timeout", "3m")

	startController(t, serviceAccountKubeconfig(t, sys, "driftless-controller"),
		"--runtime-namespace", sys, "--enable-leader-election", "--leader-election-id", "driftless-"+sys)

	repo := gittest.NewRepo(t)
	repo.CommitFiles(gittest.DefaultBranch, appFiles("hola"), "app")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	target := ns + "-apps"
	createNamespace(t, target)

	mustFlux(t, "-n", ns, "create", "source", "git", "app", "--url", srv.RepoURL(repo.Name()), "--branch", gittest.DefaultBranch, "--interval", "1h")
	mustFlux(t, "-n", ns, "create", "kustomization", "app", "--source", "GitRepository/app", "--path", "./deploy",
		"--prune", "--wait", "--target-namespace", target, "--interval", "1h")
	if got := configMapValue(t, target); got != "hola" {
		t.Fatalf("greeting = %q, want hola", got)
	}
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	if _, err := env.Dynamic.Resource(deployments).Namespace(target).Get(context.Background(), "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("deployment web: %v", err)
	}

	// The split: drop the binding to cluster-admin and ask the API server
	// what the account may still do.
	ctx := context.Background()
	if err := env.Kube.RbacV1().ClusterRoleBindings().Delete(ctx, "cluster-reconciler-"+sys, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + sys + ":driftless-controller"
	for _, tc := range []struct {
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{authorizationv1.ResourceAttributes{Namespace: target, Verb: "create", Group: "apps", Resource: "deployments"}, false},
		{authorizationv1.ResourceAttributes{Namespace: target, Verb: "create", Resource: "configmaps"}, false},
		{authorizationv1.ResourceAttributes{Namespace: target, Verb: "create", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"}, false},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "patch", Group: "source.toolkit.fluxcd.io", Resource: "gitrepositories", Subresource: "status"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "update", Group: "kustomize.toolkit.fluxcd.io", Resource: "kustomizations"}, true},
		{authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets"}, true},
		{authorizationv1.ResourceAttributes{Namespace: sys, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, true},
	} {
		attrs := tc.attrs
		testcluster.Eventually(t, 30*time.Second, "access review "+attrs.Verb+" "+attrs.Resource, func() (bool, error) {
			review, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + sys, "system:authenticated"}, ResourceAttributes: &attrs},
			}, metav1.CreateOptions{})
			if err != nil {
				return false, err
			}
			if review.Status.Allowed != tc.want {
				t.Logf("%s %s/%s in %q: allowed=%t, want %t (%s)", attrs.Verb, attrs.Resource, attrs.Subresource, attrs.Namespace, review.Status.Allowed, tc.want, review.Status.Reason)
				return false, nil
			}
			return true, nil
		})
	}
}

// removeInstall deletes what an install into sys made, except the CRDs
// that the other tests of the package share.
func removeInstall(t *testing.T, sys string) {
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + sys}
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	} {
		if err := env.Dynamic.Resource(gvr).DeleteCollection(ctx, metav1.DeleteOptions{}, sel); err != nil {
			t.Logf("cleanup %s: %v", gvr.Resource, err)
		}
	}
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if err := env.Dynamic.Resource(nsGVR).Delete(ctx, sys, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Logf("cleanup namespace %s: %v", sys, err)
	}
}
