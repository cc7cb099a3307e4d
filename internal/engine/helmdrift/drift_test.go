package helmdrift_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/helmdrift"
)

// The release's objects have no namespace, as in a chart whose templates
// leave it to Helm.
const configMap = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue, size: large}
`

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: example.com/app:1.0.0}]
`

func TestConfigMapValueEdited(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, configMap+"---"+deployment)
	install(t, ns, objs)
	d := newDetector(t)

	r := detect(t, d, objs, options(ns))
	wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "unchanged", "Deployment/NS/web": "unchanged"})
	if r.Drifted() || r.String() != helmdrift.NoDriftMessage {
		t.Errorf("release in sync reported as drifted: %s", r)
	}

	edit(t, configMaps, ns, "settings", "kubectl-edit", func(obj *unstructured.Unstructured) {
		obj.Object["data"] = map[string]any{"color": "vermilion", "size": "large", "extra": "added-value"}
	})
	r = detect(t, d, objs, options(ns))
	// The extra key is another manager's: a server-side apply keeps it.
	wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "changed replace:/data/color", "Deployment/NS/web": "unchanged"})
	wantText(t, r.String(), []string{
		"Cluster state of release " + ns + "/app.v1 has drifted from the desired state:\n",
		"ConfigMap/" + ns + "/settings changed (0 additions, 1 changes, 0 removals): /data/color",
	}, []string{"vermilion", "blue", "Deployment"})

	if got := correct(t, d, r); got != "ConfigMap/"+ns+"/settings configured" {
		t.Errorf("change set %q", got)
	}
	if got := nested(t, get(t, configMaps, ns, "settings"), "data", "color"); got != "blue" {
		t.Errorf("color after correction %v, want blue", got)
	}
	if r := detect(t, d, objs, options(ns)); r.Drifted() {
		t.Errorf("drift after correction: %s", r)
	}
}

func TestDeploymentReplicasChangedByAnotherManager(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, deployment)
	install(t, ns, objs)
	d := newDetector(t)

	edit(t, deployments, ns, "web", "scaler", func(obj *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(obj.Object, int64(5), "spec", "replicas")
	})
	r := detect(t, d, objs, options(ns))
	wantStates(t, r, ns, map[string]string{"Deployment/NS/web": "changed replace:/spec/replicas"})
	wantText(t, r.String(), []string{"Deployment/" + ns + "/web changed (0 additions, 1 changes, 0 removals): /spec/replicas"}, nil)

	correct(t, d, r)
	live := get(t, deployments, ns, "web")
	if got := nested(t, live, "spec", "replicas"); got != int64(2) {
		t.Errorf("replicas after correction %v, want 2", got)
	}
	for _, e := range live.GetManagedFields() {
		if e.Manager == "scaler" && strings.Contains(string(e.FieldsV1.Raw), "replicas") {
			t.Errorf("scaler still owns spec.replicas: %s", e.FieldsV1.Raw)
		}
	}
}

func TestDeletedObjectIsRecreated(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, configMap+"---"+deployment)
	install(t, ns, objs)
	d := newDetector(t)
	old := get(t, deployments, ns, "web")
	remove(t, deployments, ns, "web")

	r := detect(t, d, objs, options(ns))
	wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "unchanged", "Deployment/NS/web": "removed"})
	wantText(t, r.String(), []string{"\nDeployment/" + ns + "/web removed"}, []string{"ConfigMap"})

	if got := correct(t, d, r); got != "Deployment/"+ns+"/web created" {
		t.Errorf("change set %q", got)
	}
	live := get(t, deployments, ns, "web")
	if live == nil || live.GetUID() == old.GetUID() {
		t.Fatalf("deployment not re-created")
	}
	for _, f := range [][]string{{"spec", "replicas"}, {"spec", "selector"}, {"spec", "template", "spec", "containers"}} {
		if a, b := nested(t, old, f...), nested(t, live, f...); !equalJSON(a, b) {
			t.Errorf("%v re-created as %v, was %v", f, b, a)
		}
	}
	if r := detect(t, d, objs, options(ns)); r.Drifted() {
		t.Errorf("drift after correction: %s", r)
	}
}

func TestIgnoredPathIsNoDrift(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, configMap+"---"+deployment)
	install(t, ns, objs)
	d := newDetector(t)
	opts := options(ns)
	opts.Ignore = []v2.IgnoreRule{
		{Paths: []string{"/spec/replicas"}, Target: &meta.Selector{Kind: "Deployment"}},
		{Paths: []string{"/data/size"}, Target: &meta.Selector{Kind: "Secret"}}, // selects nothing here
	}

	edit(t, deployments, ns, "web", "scaler", func(obj *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(obj.Object, int64(5), "spec", "replicas")
	})
	r := detect(t, d, objs, opts)
	wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "unchanged", "Deployment/NS/web": "unchanged"})

	// Another change is corrected, the ignored field keeps its value.
	edit(t, deployments, ns, "web", "kubectl-edit", func(obj *unstructured.Unstructured) {
		c, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
		c[0].(map[string]any)["image"] = "example.com/app:6.6.6"
		_ = unstructured.SetNestedSlice(obj.Object, c, "spec", "template", "spec", "containers")
	})
	edit(t, configMaps, ns, "settings", "kubectl-edit", func(obj *unstructured.Unstructured) {
		obj.Object["data"] = map[string]any{"color": "blue", "size": "small"}
	})
	r = detect(t, d, objs, opts)
	wantStates(t, r, ns, map[string]string{
		"ConfigMap/NS/settings": "changed replace:/data/size",
		"Deployment/NS/web":     "changed replace:/spec/template/spec/containers/0/image",
	})
	correct(t, d, r)
	live := get(t, deployments, ns, "web")
	if got := nested(t, live, "spec", "replicas"); got != int64(5) {
		t.Errorf("ignored replicas after correction %v, want 5", got)
	}
	c := nested(t, live, "spec", "template", "spec", "containers").([]any)
	if got := c[0].(map[string]any)["image"]; got != "example.com/app:1.0.0" {
		t.Errorf("image after correction %v", got)
	}
	if r := detect(t, d, objs, opts); r.Drifted() {
		t.Errorf("drift after correction: %s", r)
	}
}

func TestOptedOutObjectIsNotChecked(t *testing.T) {
	cases := []struct {
		name     string
		manifest func(objs []*unstructured.Unstructured)
		cluster  func(obj *unstructured.Unstructured)
	}{
		{"annotation in the chart", func(objs []*unstructured.Unstructured) {
			objs[0].SetAnnotations(map[string]string{helmdrift.OptOutKey: "disabled"})
		}, nil},
		{"label in the cluster", nil, func(obj *unstructured.Unstructured) {
			obj.SetLabels(map[string]string{helmdrift.OptOutKey: "disabled"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			objs := manifest(t, ns, configMap+"---"+deployment)
			if tc.manifest != nil {
				tc.manifest(objs)
			}
			install(t, ns, objs)
			d := newDetector(t)
			edit(t, configMaps, ns, "settings", "kubectl-edit", func(obj *unstructured.Unstructured) {
				obj.Object["data"] = map[string]any{"color": "red"}
				if tc.cluster != nil {
					tc.cluster(obj)
				}
			})
			r := detect(t, d, objs, options(ns))
			wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "excluded", "Deployment/NS/web": "unchanged"})
			if r.Drifted() {
				t.Errorf("opted-out object reported as drift: %s", r)
			}
			// With another object drifted, the event lists it as excluded,
			// and the correction leaves it alone.
			remove(t, deployments, ns, "web")
			r = detect(t, d, objs, options(ns))
			wantText(t, r.String(), []string{"ConfigMap/" + ns + "/settings excluded", "Deployment/" + ns + "/web removed"}, nil)
			if got := correct(t, d, r); got != "Deployment/"+ns+"/web created" {
				t.Errorf("change set %q", got)
			}
			if got := nested(t, get(t, configMaps, ns, "settings"), "data", "color"); got != "red" {
				t.Errorf("opted-out object corrected: color %v", got)
			}
		})
	}
}

func TestSecretEditNamesKeysOnly(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, `
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData: {password: correct-horse-battery, user: admin-user}
`)
	install(t, ns, objs)
	d := newDetector(t)
	const edited = "tr0ub4dor-and-3"
	edit(t, secrets, ns, "token", "kubectl-edit", func(obj *unstructured.Unstructured) {
		obj.Object["data"] = map[string]any{
			"password": base64.StdEncoding.EncodeToString([]byte(edited)),
			"user":     base64.StdEncoding.EncodeToString([]byte("admin-user")),
		}
	})
	r := detect(t, d, objs, options(ns))
	wantStates(t, r, ns, map[string]string{"Secret/NS/token": "changed replace:/data/password"})
	values := []string{"correct-horse-battery", edited, "admin-user"}
	for _, v := range values[:2] {
		values = append(values, base64.StdEncoding.EncodeToString([]byte(v)))
	}
	wantText(t, r.String(), []string{"Secret/" + ns + "/token changed (0 additions, 1 changes, 0 removals): /data/password"}, values)
	wantText(t, r.Summary(), nil, values)

	correct(t, d, r)
	got := nested(t, get(t, secrets, ns, "token"), "data", "password")
	if want := base64.StdEncoding.EncodeToString([]byte("correct-horse-battery")); got != want {
		t.Errorf("password not restored")
	}
}

func TestOverrideManagerFieldsAreDrift(t *testing.T) {
	ns := env.Namespace(t)
	objs := manifest(t, ns, configMap)
	install(t, ns, objs)
	d := newDetector(t)
	edit(t, configMaps, ns, "settings", "ops-tool", func(obj *unstructured.Unstructured) {
		obj.SetLabels(map[string]string{"added-by": "ops"})
	})
	if r := detect(t, d, objs, options(ns)); r.Drifted() {
		t.Errorf("another manager's field reported as drift without --override-manager: %s", r)
	}
	opts := options(ns)
	opts.OverrideManagers = []string{"ops-tool"}
	r := detect(t, d, objs, opts)
	wantStates(t, r, ns, map[string]string{"ConfigMap/NS/settings": "changed remove:/metadata/labels"})
	correct(t, d, r)
	if l := get(t, configMaps, ns, "settings").GetLabels(); l["added-by"] != "" {
		t.Errorf("label of the override manager kept: %v", l)
	}
}

func TestInvalidIgnoreRuleIsNamed(t *testing.T) {
	ns := env.Namespace(t)
	opts := options(ns)
	opts.Ignore = []v2.IgnoreRule{{Paths: []string{"spec/replicas"}}}
	_, err := newDetector(t).Detect(context.Background(), manifest(t, ns, configMap), opts)
	if err == nil || !strings.Contains(err.Error(), "spec.driftDetection.ignore[0].paths[0]") {
		t.Errorf("error %v, want one naming spec.driftDetection.ignore[0].paths[0]", err)
	}
}
