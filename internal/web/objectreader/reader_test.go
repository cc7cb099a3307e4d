package objectreader

import (
	"context"
	"slices"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	discoveryfake "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// served are the API groups the fake cluster serves at first.
func served() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", SingularName: "configmap", Namespaced: true, Kind: "ConfigMap", ShortNames: []string{"cm"}, Verbs: []string{"get", "list"}},
			{Name: "namespaces", SingularName: "namespace", Kind: "Namespace", ShortNames: []string{"ns"}, Verbs: []string{"get", "list"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment", ShortNames: []string{"deploy"}, Verbs: []string{"get", "list"}},
			{Name: "deployments/status", Namespaced: true, Kind: "Deployment", Verbs: []string{"get"}},
		}},
	}
}

func obj(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

func newTestReader() (*Reader, *discoveryfake.FakeDiscovery) {
	disc := &discoveryfake.FakeDiscovery{Fake: &k8stesting.Fake{Resources: served()}}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		{Version: "v1", Resource: "configmaps"}:                 "ConfigMapList",
		{Version: "v1", Resource: "namespaces"}:                 "NamespaceList",
		{Group: "apps", Version: "v1", Resource: "deployments"}: "DeploymentList",
	},
		obj("apps/v1", "Deployment", "apps", "podinfo"), obj("apps/v1", "Deployment", "apps", "web"),
		obj("apps/v1", "Deployment", "other", "elsewhere"), obj("v1", "Namespace", "", "apps"))
	return New(client, disc), disc
}

// TestResolveAsKubectlDoes checks the spellings a person types, and what
// an RBAC question and a read need of each.
func TestResolveAsKubectlDoes(t *testing.T) {
	r, _ := newTestReader()
	for _, typed := range []string{"Deployment", "deployment", "deployments", "deployments.apps", "deploy", "Deployment.apps"} {
		k, err := r.Resolve(typed)
		if err != nil {
			t.Errorf("Resolve(%q): %v", typed, err)
			continue
		}
		if k.Kind != "Deployment" || k.Group != "apps" || k.Version != "v1" || k.Resource != "deployments" || !k.Namespaced {
			t.Errorf("Resolve(%q) = %+v", typed, k)
		}
	}
	ns, err := r.Resolve("ns")
	if err != nil || ns.Kind != "Namespace" || ns.Namespaced {
		t.Errorf("Resolve(ns) = %+v, %v; want the cluster-scoped Namespace", ns, err)
	}
	if _, err := r.Resolve("Deploymnet"); !apimeta.IsNoMatchError(err) {
		t.Errorf("a typo: %v, want a no-match error", err)
	}
	kinds, err := r.Kinds()
	if err != nil || !slices.Equal(kinds, []string{"ConfigMap", "Deployment", "Namespace"}) {
		t.Errorf("Kinds() = %q, %v", kinds, err)
	}
}

// TestGetAndList checks reads of a namespaced and a cluster-scoped kind.
func TestGetAndList(t *testing.T) {
	r, _ := newTestReader()
	ctx := context.Background()
	deploy, err := r.KindFor(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	items, err := r.List(ctx, deploy, "apps")
	if err != nil || len(items) != 2 {
		t.Fatalf("List(apps) = %d items, %v; want podinfo and web only", len(items), err)
	}
	if got, err := r.Get(ctx, deploy, "apps", "podinfo"); err != nil || got.GetName() != "podinfo" {
		t.Errorf("Get = %v, %v", got, err)
	}
	// A version the cluster no longer serves falls back to the preferred one.
	old, err := r.KindFor(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "v1beta2")
	if err != nil || old.Version != "v1" {
		t.Errorf("KindFor at an unserved version = %+v, %v", old, err)
	}
	ns, err := r.KindFor(schema.GroupKind{Kind: "Namespace"}, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Get(ctx, ns, "ignored", "apps"); err != nil || got.GetName() != "apps" {
		t.Errorf("Get of a cluster-scoped object = %v, %v", got, err)
	}
}

// TestNewKindAfterReset checks that a kind installed after discovery was
// cached is found once the cache is reset, and that resets are rate
// limited.
func TestNewKindAfterReset(t *testing.T) {
	r, disc := newTestReader()
	r.ResetInterval = time.Hour
	gk := schema.GroupKind{Group: "example.com", Kind: "Widget"}
	if _, err := r.KindFor(gk, ""); !apimeta.IsNoMatchError(err) {
		t.Fatalf("an unknown kind: %v", err)
	}
	disc.Resources = append(served(), &metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget", Verbs: []string{"get", "list"}}}})
	// The first miss reset the cache; within the hour a second is not
	// allowed to.
	if _, err := r.KindFor(gk, ""); !apimeta.IsNoMatchError(err) {
		t.Errorf("a reset within ResetInterval: %v, want the cached no-match", err)
	}
	r.ResetInterval = 0
	k, err := r.KindFor(gk, "")
	if err != nil || k.Resource != "widgets" {
		t.Errorf("after the CRD appeared: %+v, %v", k, err)
	}
}
