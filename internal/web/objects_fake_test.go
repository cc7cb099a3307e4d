package web

import (
	"context"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fakeObjects is an ObjectReader over objects in memory that counts its
// reads, so that tests see how many calls a page makes. forbid, when set,
// answers Forbidden as an API server does for a `flux ui` user without
// the right.
type fakeObjects struct {
	kinds  []ObjectKind
	objs   []*unstructured.Unstructured
	forbid func(k ObjectKind, namespace, name string) bool

	mu         sync.Mutex
	gets, lsts int
	read       []string // namespace/name of every Get, and namespace/* of every List
}

// fakeKinds are the kinds the fake cluster serves.
var fakeKinds = []ObjectKind{
	{GroupVersionKind: schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Resource: "deployments", Namespaced: true},
	{GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Resource: "configmaps", Namespaced: true},
	{GroupVersionKind: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, Resource: "namespaces"},
	{GroupVersionKind: schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}, Resource: "kustomizations", Namespaced: true},
}

func newFakeObjects(objs ...*unstructured.Unstructured) *fakeObjects {
	return &fakeObjects{kinds: fakeKinds, objs: objs}
}

func (f *fakeObjects) KindFor(gk schema.GroupKind, _ string) (ObjectKind, error) {
	for _, k := range f.kinds {
		if k.GroupKind() == gk {
			return k, nil
		}
	}
	return ObjectKind{}, &apimeta.NoKindMatchError{GroupKind: gk}
}

func (f *fakeObjects) Resolve(typed string) (ObjectKind, error) {
	t := strings.ToLower(typed)
	for _, k := range f.kinds {
		for _, name := range []string{strings.ToLower(k.Kind), k.Resource} {
			if t == name || (k.Group != "" && t == name+"."+k.Group) {
				return k, nil
			}
		}
	}
	return ObjectKind{}, &apimeta.NoResourceMatchError{PartialResource: schema.GroupVersionResource{Resource: t}}
}

func (f *fakeObjects) Kinds() ([]string, error) {
	var out []string
	for _, k := range f.kinds {
		out = append(out, k.Kind)
	}
	return out, nil
}

func (f *fakeObjects) Get(_ context.Context, k ObjectKind, namespace, name string) (*unstructured.Unstructured, error) {
	f.mu.Lock()
	f.gets++
	f.read = append(f.read, namespace+"/"+name)
	f.mu.Unlock()
	gr := schema.GroupResource{Group: k.Group, Resource: k.Resource}
	if f.forbid != nil && f.forbid(k, namespace, name) {
		return nil, apierrors.NewForbidden(gr, name, nil)
	}
	for _, o := range f.objs {
		if o.GroupVersionKind().GroupKind() == k.GroupKind() && o.GetNamespace() == namespace && o.GetName() == name {
			return o.DeepCopy(), nil
		}
	}
	return nil, apierrors.NewNotFound(gr, name)
}

func (f *fakeObjects) List(_ context.Context, k ObjectKind, namespace string) ([]unstructured.Unstructured, error) {
	f.mu.Lock()
	f.lsts++
	f.read = append(f.read, namespace+"/*")
	f.mu.Unlock()
	if f.forbid != nil && f.forbid(k, namespace, "") {
		return nil, apierrors.NewForbidden(schema.GroupResource{Group: k.Group, Resource: k.Resource}, "", nil)
	}
	var out []unstructured.Unstructured
	for _, o := range f.objs {
		if o.GroupVersionKind().GroupKind() == k.GroupKind() && o.GetNamespace() == namespace {
			out = append(out, *o.DeepCopy())
		}
	}
	return out, nil
}

// counts are the Gets and Lists so far, and what they read.
func (f *fakeObjects) counts() (gets, lists int, read []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.lsts, append([]string(nil), f.read...)
}

// uobj is an object of apiVersion and kind with labels and a status.
func uobj(apiVersion, kind, namespace, name string, labels map[string]any, spec, status map[string]any) *unstructured.Unstructured {
	md := map[string]any{"name": name, "generation": int64(1)}
	if namespace != "" {
		md["namespace"] = namespace
	}
	if labels != nil {
		md["labels"] = labels
	}
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
	if spec != nil {
		o["spec"] = spec
	}
	if status != nil {
		o["status"] = status
	}
	return &unstructured.Unstructured{Object: o}
}

// The rollouts a fake Deployment can be in.
const (
	rolledOut      = "available"
	rolloutFailed  = "deadline"
	rolloutRunning = "running"
)

// deployment is a Deployment of one replica in the given rollout state,
// with labels.
func deployment(namespace, name, rollout string, labels map[string]any) *unstructured.Unstructured {
	updated, progressing := int64(1), map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
	switch rollout {
	case rolloutFailed:
		progressing = map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
			"message": `ReplicaSet "` + name + `-7d" has timed out progressing.`}
	case rolloutRunning:
		updated = 0
		progressing = map[string]any{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
	}
	return uobj("apps/v1", "Deployment", namespace, name, labels,
		map[string]any{"replicas": int64(1), "progressDeadlineSeconds": int64(600)},
		map[string]any{"observedGeneration": int64(1), "replicas": int64(1), "updatedReplicas": updated, "readyReplicas": int64(1),
			"availableReplicas": int64(1), "conditions": []any{
				map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}, progressing}})
}

// objectFixtures are what the fixtures' inventories list, for testOptions:
// the Deployment apps/podinfo and the Namespace apps of the Kustomization
// flux-system/apps.
func objectFixtures() []*unstructured.Unstructured {
	return []*unstructured.Unstructured{
		deployment("apps", "podinfo", rolledOut, map[string]any{
			"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
		uobj("v1", "Namespace", "", "apps", nil, nil, map[string]any{"phase": "Active"}),
	}
}
