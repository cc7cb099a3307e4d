package cli

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/install"
)

// TestInstallSwitchesToMultiTenant installs the single layout, then
// --multi-tenant over it: the split Deployments become ready, the single
// one and its ServiceAccount and RBAC are deleted, and the API server
// grants source-controller only what it needs.
func TestInstallSwitchesToMultiTenant(t *testing.T) {
	ns := installNamespace(t)
	if _, stderr, err := runFlux(t, "", "install", "-n", ns); err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	_, stderr, err := runFlux(t, "", "install", "-n", ns, "--multi-tenant")
	if err != nil {
		t.Fatalf("install --multi-tenant: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"Deployment/" + ns + "/source-controller created",
		"Deployment/" + ns + "/kustomize-controller created",
		"Deployment/" + ns + "/driftless-controller deleted",
		"ServiceAccount/" + ns + "/driftless-controller deleted",
		"ClusterRoleBinding/cluster-reconciler-" + ns + " configured",
		"✔ source-controller: deployment ready",
		"✔ kustomize-controller: deployment ready",
		"✔ install finished",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("install --multi-tenant output lacks %q:\n%s", want, stderr)
		}
	}
	ctx := context.Background()
	for _, name := range []string{"source-controller", "kustomize-controller"} {
		var d appsv1.Deployment
		if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		if !deploymentAvailable(&d) {
			t.Errorf("%s not available after install: %+v", name, d.Status)
		}
	}
	err = kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: install.DeploymentName}, &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the single layout's Deployment is still there: %v", err)
	}
	var svc corev1.Service
	if err := kube.Get(ctx, client.ObjectKey{Namespace: ns, Name: "source-controller"}, &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Selector["app"] != "source-controller" {
		t.Errorf("the artifact Service selects %v", svc.Spec.Selector)
	}

	source := "system:serviceaccount:" + ns + ":source-controller"
	applier := "system:serviceaccount:" + ns + ":kustomize-controller"
	for _, tc := range []struct {
		user string
		attr authorizationv1.ResourceAttributes
		want bool
	}{
		{source, authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "tenant"}, true},
		{source, authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets", Namespace: "tenant"}, false},
		{source, authorizationv1.ResourceAttributes{Verb: "watch", Resource: "secrets"}, false},
		{source, authorizationv1.ResourceAttributes{Verb: "list", Resource: "configmaps"}, false},
		{source, authorizationv1.ResourceAttributes{Verb: "create", Group: "apps", Resource: "deployments", Namespace: "tenant"}, false},
		{source, authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: "serviceaccounts"}, false},
		{source, authorizationv1.ResourceAttributes{Verb: "watch", Group: "source.toolkit.fluxcd.io", Resource: "gitrepositories"}, true},
		{source, authorizationv1.ResourceAttributes{Verb: "patch", Group: "source.toolkit.fluxcd.io", Resource: "gitrepositories", Subresource: "status", Namespace: "tenant"}, true},
		{source, authorizationv1.ResourceAttributes{Verb: "patch", Group: "kustomize.toolkit.fluxcd.io", Resource: "kustomizations", Namespace: "tenant"}, false},
		{source, authorizationv1.ResourceAttributes{Verb: "create", Resource: "events", Namespace: "tenant"}, true},
		{source, authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: ns}, true},
		{source, authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-system"}, false},
		{applier, authorizationv1.ResourceAttributes{Verb: "watch", Resource: "secrets"}, true},
		{applier, authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: "serviceaccounts"}, true},
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: tc.user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &tc.attr,
		}}
		got, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Allowed != tc.want {
			t.Errorf("%s may %s %s/%s %s in %q: %t, want %t", tc.user, tc.attr.Verb, tc.attr.Group, tc.attr.Resource,
				tc.attr.Subresource, tc.attr.Namespace, got.Status.Allowed, tc.want)
		}
	}
}
