package apply

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env    *testcluster.Cluster
	update = flag.Bool("update", false, "rewrite the golden files in testdata")
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{NoCRDs: true}, &env) }

// flux is the owner the kustomize controller applies as.
var flux = Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"}

func newManager(t *testing.T) *Manager {
	t.Helper()
	m, err := NewForConfig(env.Config, flux)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// opts returns apply options for the Kustomization name in namespace ns.
func opts(name, ns string) ApplyOptions {
	return ApplyOptions{OwnerLabels: flux.Labels(name, ns), WaitTimeout: 30 * time.Second}
}

// objects decodes a multi-document YAML, with NS replaced by ns.
func objects(t *testing.T, ns, manifests string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(strings.ReplaceAll(manifests, "NS", ns)), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode manifests: %v", err)
		}
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

func mustApply(t *testing.T, m *Manager, objs []*unstructured.Unstructured, o ApplyOptions) *ChangeSet {
	t.Helper()
	cs, err := m.ApplyAll(context.Background(), objs, o)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return cs
}

// actions maps "Kind/namespace/name" to the action of cs, with the
// namespace of the test written NS.
func actions(cs *ChangeSet, ns string) map[string]Action {
	out := map[string]Action{}
	for _, e := range cs.Entries {
		out[strings.ReplaceAll(e.Ref.String(), ns, "NS")] = e.Action
	}
	return out
}

func wantActions(t *testing.T, cs *ChangeSet, ns string, want map[string]Action) {
	t.Helper()
	got := actions(cs, ns)
	if len(got) != len(want) {
		t.Errorf("change set has %d entries, want %d: %v", len(got), len(want), got)
	}
	for k, a := range want {
		if got[k] != a {
			t.Errorf("%s: action %q, want %q (all: %v)", k, got[k], a, got)
		}
	}
}

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	services    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	namespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	jobs        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	crds        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// get reads an object; nil when it does not exist.
func get(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := env.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func nested(t *testing.T, obj *unstructured.Unstructured, fields ...string) any {
	t.Helper()
	if obj == nil {
		t.Fatalf("object is missing; want field %v", fields)
	}
	v, _, err := unstructured.NestedFieldNoCopy(obj.Object, fields...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func managers(obj *unstructured.Unstructured) []string {
	var out []string
	for _, e := range obj.GetManagedFields() {
		out = append(out, e.Manager+"/"+string(e.Operation))
	}
	return out
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error lacks %q:\n%v", p, err)
		}
	}
}
