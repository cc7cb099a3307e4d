package helmdrift_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/util/retry"

	"github.com/driftless/driftless/internal/engine/helmdrift"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var env *testcluster.Cluster

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{NoCRDs: true}, &env) }

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	services    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	crds        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

func newDetector(t *testing.T) *helmdrift.Detector {
	t.Helper()
	d, err := helmdrift.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// options are the options of the release "app" in ns.
func options(ns string) helmdrift.Options {
	return helmdrift.Options{Release: ns + "/app.v1", Namespace: ns, WaitTimeout: 30 * time.Second}
}

// manifest decodes a multi-document YAML, with NS replaced by ns, as the
// release's stored manifest.
func manifest(t *testing.T, ns, text string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(strings.ReplaceAll(text, "NS", ns)), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode manifest: %v", err)
		}
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// install applies the objects as Helm does with server-side apply, as the
// field manager helm-controller, in ns when they have no namespace.
func install(t *testing.T, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		gvr := resourceOf(t, o)
		obj := o.DeepCopy()
		res := env.Dynamic.Resource(gvr)
		var err error
		if gvr == crds {
			_, err = res.Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: helmdrift.FieldManager, Force: true})
			if err == nil {
				waitEstablished(t, obj.GetName())
			}
		} else {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(ns)
			}
			_, err = res.Namespace(obj.GetNamespace()).Apply(context.Background(), obj.GetName(), obj, metav1.ApplyOptions{FieldManager: helmdrift.FieldManager, Force: true})
		}
		if err != nil {
			t.Fatalf("install %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

func resourceOf(t *testing.T, o *unstructured.Unstructured) schema.GroupVersionResource {
	t.Helper()
	switch o.GetKind() {
	case "ConfigMap":
		return configMaps
	case "Secret":
		return secrets
	case "Deployment":
		return deployments
	case "CustomResourceDefinition":
		return crds
	case "Widget":
		return widgets
	}
	t.Fatalf("no resource for kind %s", o.GetKind())
	return schema.GroupVersionResource{}
}

func waitEstablished(t *testing.T, name string) {
	t.Helper()
	testcluster.Eventually(t, 30*time.Second, "CRD "+name+" established", func() (bool, error) {
		crd, err := env.Dynamic.Resource(crds).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			if cm, _ := c.(map[string]any); cm["type"] == "Established" && cm["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

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

// edit changes a live object with an update by the field manager, as
// kubectl edit and other controllers do.
func edit(t *testing.T, gvr schema.GroupVersionResource, ns, name, manager string, change func(obj *unstructured.Unstructured)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := get(t, gvr, ns, name)
		if obj == nil {
			t.Fatalf("edit %s/%s: not found", ns, name)
		}
		change(obj)
		_, err := env.Dynamic.Resource(gvr).Namespace(ns).Update(context.Background(), obj, metav1.UpdateOptions{FieldManager: manager})
		return err
	})
	if err != nil {
		t.Fatalf("edit %s/%s as %s: %v", ns, name, manager, err)
	}
}

func remove(t *testing.T, gvr schema.GroupVersionResource, ns, name string) {
	t.Helper()
	if err := env.Dynamic.Resource(gvr).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	testcluster.Eventually(t, 30*time.Second, name+" gone", func() (bool, error) {
		return get(t, gvr, ns, name) == nil, nil
	})
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

func detect(t *testing.T, d *helmdrift.Detector, objs []*unstructured.Unstructured, opts helmdrift.Options) *helmdrift.Report {
	t.Helper()
	r, err := d.Detect(context.Background(), objs, opts)
	if err != nil {
		t.Fatalf("detect: %v", err)
	}
	return r
}

func correct(t *testing.T, d *helmdrift.Detector, r *helmdrift.Report) string {
	t.Helper()
	cs, err := d.Correct(context.Background(), r)
	if err != nil {
		t.Fatalf("correct: %v", err)
	}
	return cs.String()
}

// states maps "Kind/namespace/name" (the namespace written NS) to its
// state and changed paths.
func states(r *helmdrift.Report, ns string) map[string]string {
	out := map[string]string{}
	for _, e := range r.Entries {
		s := string(e.State)
		for _, c := range e.Changes {
			s += " " + c.Op + ":" + c.Path
		}
		out[strings.ReplaceAll(e.Ref.String(), ns, "NS")] = s
	}
	return out
}

func wantStates(t *testing.T, r *helmdrift.Report, ns string, want map[string]string) {
	t.Helper()
	got := states(r, ns)
	if len(got) != len(want) {
		t.Errorf("report has %d entries, want %d: %v", len(got), len(want), got)
	}
	for k, s := range want {
		if got[k] != s {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], s, got)
		}
	}
}

// wantText checks that text has every part and none of the values.
func wantText(t *testing.T, text string, parts []string, values []string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("text lacks %q:\n%s", p, text)
		}
	}
	for _, v := range values {
		if strings.Contains(text, v) {
			t.Errorf("text tells the value %q:\n%s", v, text)
		}
	}
}
