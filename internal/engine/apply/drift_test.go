package apply

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"

	apimeta "github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

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

func setAnnotations(obj *unstructured.Unstructured, kv map[string]string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range kv {
		a[k] = v
	}
	obj.SetAnnotations(a)
}

func configMap(t *testing.T, ns, color string, annotations map[string]string) []*unstructured.Unstructured {
	objs := objects(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: NS}\ndata: {color: "+color+"}\n")
	if len(annotations) > 0 {
		objs[0].SetAnnotations(annotations)
	}
	return objs
}

func TestPerObjectAnnotations(t *testing.T) {
	const ssa, reconcile = "kustomize.toolkit.fluxcd.io/ssa", "kustomize.toolkit.fluxcd.io/reconcile"
	cases := []struct {
		name      string
		manifest  map[string]string // annotations in the manifest
		inCluster map[string]string // annotations added in the cluster after the first apply
		first     Action
		second    Action
		color     string // after the second apply; "" for no object
	}{
		{"default overrides drift", nil, nil, Created, Configured, "green"},
		{"Override", map[string]string{ssa: "Override"}, nil, Created, Configured, "green"},
		{"Merge still applies", map[string]string{ssa: "Merge"}, nil, Created, Configured, "green"},
		{"IfNotPresent creates only", map[string]string{ssa: "IfNotPresent"}, nil, Created, Skipped, "red"},
		{"Ignore in the manifest", map[string]string{ssa: "Ignore"}, nil, Skipped, Skipped, ""},
		{"Ignore in the cluster", nil, map[string]string{ssa: "Ignore"}, Created, Skipped, "red"},
		{"reconcile disabled in the manifest", map[string]string{reconcile: "disabled"}, nil, Skipped, Skipped, ""},
		{"reconcile Disabled in the cluster", nil, map[string]string{reconcile: "Disabled"}, Created, Skipped, "red"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			m := newManager(t)
			cs := mustApply(t, m, configMap(t, ns, "blue", tc.manifest), opts("ks", ns))
			wantActions(t, cs, ns, map[string]Action{"ConfigMap/NS/cm": tc.first})
			if get(t, configMaps, ns, "cm") != nil {
				edit(t, configMaps, ns, "cm", "other-controller", func(obj *unstructured.Unstructured) {
					obj.Object["data"] = map[string]any{"color": "red"}
					setAnnotations(obj, tc.inCluster)
				})
			}
			cs = mustApply(t, m, configMap(t, ns, "green", tc.manifest), opts("ks", ns))
			wantActions(t, cs, ns, map[string]Action{"ConfigMap/NS/cm": tc.second})
			live := get(t, configMaps, ns, "cm")
			if tc.color == "" {
				if live != nil {
					t.Errorf("object exists, want none")
				}
				return
			}
			if got := nested(t, live, "data", "color"); got != tc.color {
				t.Errorf("color %v, want %s", got, tc.color)
			}
		})
	}
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: example.com/app:1.0.0}]
`

func TestKubectlEditIsReverted(t *testing.T) {
	cases := []struct {
		name        string
		annotations map[string]string
		keepLabel   bool // the label kubectl added survives
	}{
		{"Override", nil, false},
		{"Merge keeps what kubectl added", map[string]string{"kustomize.toolkit.fluxcd.io/ssa": "Merge"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			m := newManager(t)
			manifests := func() []*unstructured.Unstructured {
				objs := objects(t, ns, deployment)
				objs[0].SetAnnotations(tc.annotations)
				return objs
			}
			mustApply(t, m, manifests(), opts("ks", ns))
			edit(t, deployments, ns, "web", "kubectl-edit", func(obj *unstructured.Unstructured) {
				obj.Object["spec"].(map[string]any)["replicas"] = int64(5)
				obj.SetLabels(map[string]string{"added-by": "kubectl"})
				setAnnotations(obj, map[string]string{lastAppliedAnnotation: "{}"})
			})
			edit(t, deployments, ns, "web", "flux-client-side-apply", func(obj *unstructured.Unstructured) {
				setAnnotations(obj, map[string]string{"kept": "yes"})
			})

			cs := mustApply(t, m, manifests(), opts("ks", ns))
			wantActions(t, cs, ns, map[string]Action{"Deployment/NS/web": Configured})
			live := get(t, deployments, ns, "web")
			if got := nested(t, live, "spec", "replicas"); got != int64(2) {
				t.Errorf("replicas %v, want 2: the kubectl edit is not reverted", got)
			}
			if _, ok := live.GetLabels()["added-by"]; ok != tc.keepLabel {
				t.Errorf("label added by kubectl present: %v, want %v", ok, tc.keepLabel)
			}
			if live.GetAnnotations()["kept"] != "yes" {
				t.Errorf("annotation of flux-client-side-apply lost: %v", live.GetAnnotations())
			}
			if slices.Contains(managers(live), "flux-client-side-apply/Update") != true {
				t.Errorf("managers %v lack flux-client-side-apply", managers(live))
			}
			if _, ok := live.GetAnnotations()[lastAppliedAnnotation]; ok == !tc.keepLabel {
				t.Errorf("last-applied annotation present: %v, want %v", ok, tc.keepLabel)
			}
			if has := slices.Contains(managers(live), "kubectl-edit/Update"); has != tc.keepLabel {
				t.Errorf("managers %v: kubectl-edit present %v, want %v", managers(live), has, tc.keepLabel)
			}
			if slices.Contains(managers(live), "kustomize-controller/Update") {
				t.Errorf("managers %v: the cleanup left an update entry of its own", managers(live))
			}
			// The deployment controller writes the Deployment too (its
			// revision annotation) when it gets to it, which on a busy
			// machine can fall between the read and the dry-run of the next
			// apply and look like drift: let it catch up first.
			testcluster.Eventually(t, 30*time.Second, "the deployment controller to observe the Deployment", func() (bool, error) {
				live := get(t, deployments, ns, "web")
				observed, _, _ := unstructured.NestedInt64(live.Object, "status", "observedGeneration")
				_, revised := live.GetAnnotations()["deployment.kubernetes.io/revision"]
				return revised && observed == live.GetGeneration(), nil
			})
			cs = mustApply(t, m, manifests(), opts("ks", ns))
			wantActions(t, cs, ns, map[string]Action{"Deployment/NS/web": Unchanged})
		})
	}
}

func TestOverrideManagers(t *testing.T) {
	ns := env.Namespace(t)
	m := newManager(t)
	mustApply(t, m, configMap(t, ns, "blue", nil), opts("ks", ns))
	edit(t, configMaps, ns, "cm", "helm", func(obj *unstructured.Unstructured) {
		obj.Object["data"].(map[string]any)["extra"] = "x"
	})
	cs := mustApply(t, m, configMap(t, ns, "blue", nil), opts("ks", ns))
	wantActions(t, cs, ns, map[string]Action{"ConfigMap/NS/cm": Unchanged})

	o := opts("ks", ns)
	o.OverrideManagers = []string{"helm"}
	cs = mustApply(t, m, configMap(t, ns, "blue", nil), o)
	wantActions(t, cs, ns, map[string]Action{"ConfigMap/NS/cm": Configured})
	live := get(t, configMaps, ns, "cm")
	if _, ok := live.Object["data"].(map[string]any)["extra"]; ok {
		t.Errorf("field of the override manager kept: %v", live.Object["data"])
	}
}

func TestIgnoreRules(t *testing.T) {
	replicas := []IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &apimeta.Selector{Kind: "Deploy.*", Group: "apps"}}}
	otherKind := []IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &apimeta.Selector{Kind: "StatefulSet"}}}
	cases := []struct {
		name    string
		rules   []IgnoreRule
		manager string // who scales the Deployment to 5
		first   Action // apply the same manifests
		then    Action // apply with a new label
		want    int64  // replicas in the end
	}{
		{"no rule: drift corrected", nil, "hpa-controller", Configured, Configured, 2},
		{"rule for another kind", otherKind, "hpa-controller", Configured, Configured, 2},
		{"field of another manager kept", replicas, "hpa-controller", Unchanged, Configured, 5},
		{"field taken from kubectl kept", replicas, "kubectl-edit", Configured, Configured, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			m := newManager(t)
			o := opts("ks", ns)
			o.Ignore = tc.rules
			mustApply(t, m, objects(t, ns, deployment), o)
			edit(t, deployments, ns, "web", tc.manager, func(obj *unstructured.Unstructured) {
				obj.Object["spec"].(map[string]any)["replicas"] = int64(5)
			})
			cs := mustApply(t, m, objects(t, ns, deployment), o)
			wantActions(t, cs, ns, map[string]Action{"Deployment/NS/web": tc.first})
			labelled := objects(t, ns, deployment)
			labelled[0].SetLabels(map[string]string{"tier": "front"})
			cs = mustApply(t, m, labelled, o)
			wantActions(t, cs, ns, map[string]Action{"Deployment/NS/web": tc.then})
			live := get(t, deployments, ns, "web")
			if got := nested(t, live, "spec", "replicas"); got != tc.want {
				t.Errorf("replicas %v, want %d", got, tc.want)
			}
			if live.GetLabels()["tier"] != "front" {
				t.Errorf("labels %v: the apply did not happen", live.GetLabels())
			}
		})
	}
}

func TestForceRecreatesOnImmutableChange(t *testing.T) {
	const job = `
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: NS, annotations: {ANNOTATION}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: example.com/job:TAG}]
`
	const service = `
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: NS, annotations: {ANNOTATION}}
spec:
  clusterIP: TAG
  ports: [{port: 80}]
`
	cases := []struct {
		name       string
		manifest   string
		gvr        schema.GroupVersionResource
		before     string // TAG of the first apply
		after      string // TAG of the second
		force      bool
		annotation string
	}{
		{"Job template with force", job, jobs, "1", "2", true, ""},
		{"Job template with the force annotation", job, jobs, "1", "2", false, "kustomize.toolkit.fluxcd.io/force: Enabled"},
		{"Service clusterIP with force", service, services, `""`, "None", true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			m := newManager(t)
			manifest := func(tag, annotation string) []*unstructured.Unstructured {
				return objects(t, ns, strings.NewReplacer("TAG", tag, "ANNOTATION", annotation).Replace(tc.manifest))
			}
			cs := mustApply(t, m, manifest(tc.before, ""), opts("ks", ns))
			ref := cs.Entries[0].Ref
			before := get(t, tc.gvr, ns, ref.Name)

			_, err := m.ApplyAll(context.Background(), manifest(tc.after, ""), opts("ks", ns))
			wantErr(t, err, ref.String()+": dry-run failed", "Invalid value", "annotate the object with kustomize.toolkit.fluxcd.io/force: Enabled")
			if !immutable(err) {
				t.Errorf("error not seen as immutable: %v", err)
			}

			o := opts("ks", ns)
			o.Force = tc.force
			cs = mustApply(t, m, manifest(tc.after, tc.annotation), o)
			wantActions(t, cs, ns, map[string]Action{strings.ReplaceAll(ref.String(), ns, "NS"): Created})
			after := get(t, tc.gvr, ns, ref.Name)
			if after == nil || after.GetUID() == before.GetUID() {
				t.Fatalf("object not recreated")
			}
			cs = mustApply(t, m, manifest(tc.after, tc.annotation), o)
			if cs.Changed() {
				t.Errorf("apply after the recreation changed: %s", cs)
			}
		})
	}
}
