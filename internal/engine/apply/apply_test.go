package apply

import (
	"context"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"testing"

	apimeta "github.com/driftless/driftless/api/meta"
)

const app = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NS}
data: {color: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: example.com/app:1.0.0
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: NS}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

func TestCreateConfigureUnchanged(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	o := opts("apps", "flux-system")
	o.CommonMetadata = &apimeta.CommonMetadata{Labels: map[string]string{"team": "blue", "app": "overridden"}, Annotations: map[string]string{"owner": "ops"}}

	cs := mustApply(t, m, objects(t, ns, app), o)
	wantActions(t, cs, ns, map[string]Action{
		"ConfigMap/NS/settings": Created, "Deployment/NS/web": Created, "Service/NS/web": Created,
	})
	dep := get(t, deployments, ns, "web")
	for k, v := range map[string]string{
		"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
		"team": "blue", "app": "overridden",
	} {
		if got := dep.GetLabels()[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if dep.GetAnnotations()["owner"] != "ops" {
		t.Errorf("annotations %v lack owner: ops", dep.GetAnnotations())
	}
	versions := map[string]string{}
	for _, e := range cs.Entries {
		versions[e.Ref.String()] = resourceVersion(t, e.Ref)
	}

	again := mustApply(t, m, objects(t, ns, app), o)
	wantActions(t, again, ns, map[string]Action{
		"ConfigMap/NS/settings": Unchanged, "Deployment/NS/web": Unchanged, "Service/NS/web": Unchanged,
	})
	for _, e := range again.Entries {
		if e.Ref.Kind == "Deployment" {
			continue // its controller writes its status
		}
		if rv := resourceVersion(t, e.Ref); rv != versions[e.Ref.String()] {
			t.Errorf("%s: resourceVersion moved from %s to %s on an unchanged apply", e.Ref, versions[e.Ref.String()], rv)
		}
	}
	if again.Changed() || again.String() != "" {
		t.Errorf("unchanged apply reports changes: %q", again.String())
	}

	changed := objects(t, ns, app)
	changed[0].Object["data"] = map[string]any{"color": "green"}
	cs = mustApply(t, m, changed, o)
	wantActions(t, cs, ns, map[string]Action{
		"ConfigMap/NS/settings": Configured, "Deployment/NS/web": Unchanged, "Service/NS/web": Unchanged,
	})
	if got := nested(t, get(t, configMaps, ns, "settings"), "data", "color"); got != "green" {
		t.Errorf("data.color = %v, want green", got)
	}
	if want := "ConfigMap/" + ns + "/settings configured"; cs.String() != want {
		t.Errorf("event text %q, want %q", cs.String(), want)
	}
	inv := cs.Inventory()
	if len(inv.Entries) != 3 || inv.Entries[0].ID != ns+"_settings__ConfigMap" || inv.Entries[0].Version != "v1" {
		t.Errorf("inventory %+v", inv.Entries)
	}
}

func resourceVersion(t *testing.T, ref ObjectRef) string {
	t.Helper()
	m := newManager(t)
	_, live, err := m.getRef(context.Background(), ref)
	if err != nil || live == nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return live.GetResourceVersion()
}

// TestChangeSetCarriesResourceVersions checks that each change reports the
// version the object has after the apply, so a health check can tell a
// fresh copy from a stale cached one.
func TestChangeSetCarriesResourceVersions(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	cs, err := m.ApplyAll(context.Background(), configMap(t, ns, "red", nil), opts("versions", ns))
	if err != nil {
		t.Fatal(err)
	}
	live, err := env.Kube.CoreV1().ConfigMaps(ns).Get(context.Background(), "cm", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cs.Entries[0].ResourceVersion; got == "" || got != live.ResourceVersion {
		t.Errorf("created: change reports version %q, live object has %q", got, live.ResourceVersion)
	}
	cs, err = m.ApplyAll(context.Background(), configMap(t, ns, "red", nil), opts("versions", ns))
	if err != nil {
		t.Fatal(err)
	}
	if e := cs.Entries[0]; e.Action != Unchanged || e.ResourceVersion != live.ResourceVersion {
		t.Errorf("unchanged: %+v, want version %q", e, live.ResourceVersion)
	}
}
