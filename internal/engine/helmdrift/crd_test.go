package helmdrift_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

var widgets = schema.GroupVersionResource{Group: "drift.example.com", Version: "v1", Resource: "widgets"}

// widgetCRD is a CRD of the release (a chart's crds/ directory) and a
// Widget the release's templates make.
const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.drift.example.com}
spec:
  group: drift.example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`

const widget = `
apiVersion: drift.example.com/v1
kind: Widget
metadata: {name: w}
spec: {size: 3}
`

func TestDeletedCRDIsRecreatedWithItsObjects(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, widgetCRD+"---"+widget+"---"+configMap)
	install(t, ns, objs)
	d := newDetector(t)
	if r := detect(t, d, objs, options(ns)); r.Drifted() {
		t.Fatalf("drift right after install: %s", r)
	}
	remove(t, crds, "", "widgets.drift.example.com")

	r := detect(t, d, objs, options(ns))
	wantStates(t, r, ns, map[string]string{
		"CustomResourceDefinition/widgets.drift.example.com": "removed",
		"Widget/NS/w":           "removed",
		"ConfigMap/NS/settings": "unchanged",
	})
	correct(t, d, r)
	if got := nested(t, get(t, widgets, ns, "w"), "spec", "size"); got != int64(3) {
		t.Errorf("widget re-created with size %v", got)
	}
	if r := detect(t, d, objs, options(ns)); r.Drifted() {
		t.Errorf("drift after correction: %s", r)
	}
}

func TestObjectWithoutCRDIsNamed(t *testing.T) {
	ns := env.Namespace(t)
	cm := manifest(t, ns, configMap)
	install(t, ns, cm)
	gone := strings.ReplaceAll(strings.ReplaceAll(widget, "drift.example.com", "gone.example.com"), "{name: w}", "{name: w, namespace: NS}")
	objs := append(manifest(t, ns, gone), cm...)
	r, err := newDetector(t).Detect(context.Background(), objs, options(ns))
	if err == nil {
		t.Fatal("no error for a Widget whose CRD is missing")
	}
	for _, want := range []string{"release " + ns + "/app.v1", "Widget/" + ns + "/w", `kind "Widget" in group "gone.example.com"`, "CRD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// The other objects are still checked.
	wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "unchanged"})
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}
