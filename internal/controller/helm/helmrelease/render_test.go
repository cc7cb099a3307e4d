package helmrelease_test

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// post-renderer-kustomize: patches and commonMetadata change what is
// released; changing a patch upgrades.
func TestPostRendererKustomize(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "pr", "app", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.CommonMetadata = &meta.CommonMetadata{Labels: map[string]string{"team": "blue"}}
		hr.Spec.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Patches: []meta.Patch{
			{Patch: `[{"op":"add","path":"/data/patched","value":"first"}]`, Target: &meta.Selector{Kind: "ConfigMap"}},
			{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pr-app\n  namespace: " + ns + "\n  annotations:\n    patched-by: strategic-merge\n"},
		}}}}
	})
	got := controllertest.WaitReady(t, kube, hr)
	cm, err := configMap(t, ns, "pr-app")
	if err != nil || cm.Data["patched"] != "first" || cm.Annotations["patched-by"] != "strategic-merge" || cm.Labels["team"] != "blue" {
		t.Fatalf("post-rendered ConfigMap %+v %v: data %v", cm.ObjectMeta, err, cm.Data)
	}
	if got.Status.ObservedPostRenderersDigest == "" || got.Status.ObservedCommonMetadataDigest == "" {
		t.Errorf("observed digests %+v", got.Status)
	}

	controllertest.Patch(t, kube, got, `{"spec":{"postRenderers":[{"kustomize":{"patches":[`+
		`{"patch":"[{\"op\":\"add\",\"path\":\"/data/patched\",\"value\":\"second\"}]","target":{"kind":"ConfigMap"}}]}}]}}`)
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.LastReleaseRevision == 2
	})
	if cm, _ := configMap(t, ns, "pr-app"); cm.Data["patched"] != "second" || cm.Annotations["patched-by"] != "" {
		t.Errorf("after the new post-renderers: data %v, annotations %v", cm.Data, cm.Annotations)
	}
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}
}

// managers is "<manager>/<operation>" of each managedFields entry.
func managers(fields []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Manager+"/"+string(f.Operation))
	}
	return out
}

// server-side-apply: installs apply server-side as helm-controller (the
// default); an upgrade with serverSideApply disabled updates client-side.
func TestServerSideApply(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"))
	hr := release(t, ns, "ssa", "app", `{"message":"one"}`)
	controllertest.WaitReady(t, kube, hr)
	cm, err := configMap(t, ns, "ssa-app")
	if err != nil {
		t.Fatal(err)
	}
	if m := managers(cm.ManagedFields); !slices.Contains(m, "helm-controller/Apply") {
		t.Errorf("managers after install %v, want helm-controller/Apply", m)
	}

	controllertest.Patch(t, kube, hr, `{"spec":{"values":{"message":"two"},"upgrade":{"serverSideApply":"disabled"}}}`)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation && o.Status.LastReleaseRevision == 2
	})
	cm, err = configMap(t, ns, "ssa-app")
	if err != nil || cm.Data["message"] != "two" {
		t.Fatalf("after a client-side upgrade: %v %v", err, cm.Data)
	}
	if m := managers(cm.ManagedFields); !slices.Contains(m, "helm-controller/Update") {
		t.Errorf("managers after a client-side upgrade %v, want helm-controller/Update", m)
	}
}
