package helmrelease_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdGroup is an API group of the test's own (CRDs are cluster-wide), whose
// CRDs are deleted when the test ends.
func crdGroup(t *testing.T, ns string) string {
	group := ns + ".crds.driftless.test"
	t.Cleanup(func() {
		for _, plural := range []string{"widgets", "gadgets"} {
			_ = env.Dynamic.Resource(crdResource).Delete(context.Background(), plural+"."+group, metav1.DeleteOptions{})
		}
	})
	return group
}

// kindCRD is the CRD of kind in group, serving versions (the first is
// stored). Each version's schema has spec.size; with more than one version,
// spec.color too (a field and a version added at once, as a chart's next
// CRD does: with no conversion webhook, every version has the same schema).
func kindCRD(group, kind string, versions ...string) string {
	plural := strings.ToLower(kind) + "s"
	var vs strings.Builder
	for i, v := range versions {
		color := ""
		if len(versions) > 1 {
			color = `
              color:
                type: string`
		}
		fmt.Fprintf(&vs, `
  - name: %s
    served: true
    storage: %t
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer%s`, v, i == 0, color)
	}
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[3]s.%[1]s
spec:
  group: %[1]s
  names:
    kind: %[2]s
    listKind: %[2]sList
    plural: %[3]s
    singular: %[4]s
  scope: Namespaced
  versions:%[5]s
`, group, kind, plural, strings.ToLower(kind), vs.String())
}

// widget is a template releasing a Widget <release>-widget of version v.
func widget(group, v string) string {
	color := ""
	if v != "v1" {
		color = "\n  color: blue"
	}
	return fmt.Sprintf(`apiVersion: %s/%s
kind: Widget
metadata:
  name: {{ .Release.Name }}-widget
  namespace: {{ .Release.Namespace }}
spec:
  size: 1%s
`, group, v, color)
}

// crdChart is 1.0.0 of the crds-upgrade scenario: the Widget (v1) and
// Gadget CRDs, a Widget v1 and the ConfigMap.
func crdChart(group string) *helmtest.Chart {
	return helmtest.ConfigMapChart("crdapp", "1.0.0").
		CRD("widgets.yaml", kindCRD(group, "Widget", "v1")).
		CRD("gadgets.yaml", kindCRD(group, "Gadget", "v1")).
		Template("widget.yaml", widget(group, "v1"))
}

// crdChartNext is 1.1.0: the Widget CRD serves v2 (with spec.color), the
// release's Widget is a v2, and the Gadget CRD is gone from the chart.
func crdChartNext(group string) *helmtest.Chart {
	return helmtest.ConfigMapChart("crdapp", "1.1.0").
		CRD("widgets.yaml", kindCRD(group, "Widget", "v1", "v2")).
		Template("widget.yaml", widget(group, "v2"))
}

// crd reads a CRD; nil when it does not exist.
func crd(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := env.Dynamic.Resource(crdResource).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("CRD %s: %v", name, err)
	}
	return u
}

// servedVersions are the versions a CRD serves.
func servedVersions(t *testing.T, name string) []string {
	t.Helper()
	u := crd(t, name)
	if u == nil {
		t.Fatalf("CRD %s does not exist", name)
	}
	vs, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
	var out []string
	for _, v := range vs {
		m, _ := v.(map[string]any)
		if served, _ := m["served"].(bool); served {
			out = append(out, fmt.Sprint(m["name"]))
		}
	}
	return out
}

func widgetObject(t *testing.T, group, v, ns, name string) (*unstructured.Unstructured, error) {
	t.Helper()
	return env.Dynamic.Resource(schema.GroupVersionResource{Group: group, Version: v, Resource: "widgets"}).
		Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
}

func readyFalse(o *helmv2.HelmRelease) bool {
	c := condition(o, meta.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason != meta.ProgressingReason &&
		o.Status.ObservedGeneration == o.Generation
}

// crds-upgrade: installed with Create, upgraded with CreateReplace: the
// CRD serves the new version and the release's object of that version
// applies; the CRD the new chart dropped stays, as both do on uninstall.
func TestCRDsUpgradeCreateReplace(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := crdGroup(t, ns)
	kit := repository(t, ns, crdChart(group))
	hr := release(t, ns, "crds", "crdapp", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Install = &helmv2.Install{CRDs: helmv2.Create}
		hr.Spec.Upgrade = &helmv2.Upgrade{CRDs: helmv2.CreateReplace}
	})
	got := controllertest.WaitReady(t, kube, hr)
	widgets, gadgets := "widgets."+group, "gadgets."+group
	if v := servedVersions(t, widgets); !slices.Equal(v, []string{"v1"}) {
		t.Errorf("Widget CRD serves %v after the install", v)
	}
	if u := crd(t, gadgets); u == nil || u.GetLabels()[helmv2.NameLabel] != "crds" || u.GetLabels()[helmv2.NamespaceLabel] != ns {
		t.Errorf("Gadget CRD after the install: %v", u)
	}
	if _, err := widgetObject(t, group, "v1", ns, "crds-widget"); err != nil {
		t.Errorf("the release's Widget v1: %v", err)
	}
	var ids []string
	for _, e := range got.Status.Inventory.Entries {
		ids = append(ids, e.ID)
	}
	for _, want := range []string{"_" + widgets + "_apiextensions.k8s.io_CustomResourceDefinition",
		ns + "_crds-widget_" + group + "_Widget", ns + "_crds-crdapp__ConfigMap"} {
		if !slices.Contains(ids, want) {
			t.Errorf("inventory %v lacks %s", ids, want)
		}
	}
	// Helm's own record knows nothing of the CRDs: the controller applied them.
	if list := helmList(t, ns); len(list) != 1 || list[0]["status"] != "deployed" {
		t.Errorf("helm list %v", list)
	}

	publish(t, kit, ns, crdChartNext(group))
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "revision 2", func(o *helmv2.HelmRelease) bool {
		return len(o.Status.History) > 0 && o.Status.History[0].Version == 2 && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	if c := condition(got, helmv2.ReleasedCondition); c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}
	if v := servedVersions(t, widgets); !slices.Equal(v, []string{"v1", "v2"}) {
		t.Errorf("Widget CRD serves %v after the upgrade", v)
	}
	w, err := widgetObject(t, group, "v2", ns, "crds-widget")
	if err != nil {
		t.Fatalf("the release's Widget v2: %v", err)
	}
	if color, _, _ := unstructured.NestedString(w.Object, "spec", "color"); color != "blue" {
		t.Errorf("Widget v2 spec %v: the new field was pruned", w.Object["spec"])
	}
	if crd(t, gadgets) == nil {
		t.Error("the Gadget CRD the new chart dropped was deleted")
	}

	// Uninstalling deletes the release's objects, never its CRDs.
	if err := kube.Delete(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	err = testcluster.Poll(time30s, func() (bool, error) {
		err := kube.Get(context.Background(), client.ObjectKeyFromObject(got), &helmv2.HelmRelease{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("the HelmRelease was not finalized: %v", err)
	}
	if list := helmList(t, ns); len(list) != 0 {
		t.Errorf("helm list after deletion %v", list)
	}
	if crd(t, widgets) == nil || crd(t, gadgets) == nil {
		t.Error("a CRD was deleted with the release")
	}
}

// upgrade.crds Skip (the default) leaves the CRD as it is, and so does
// Create: the upgrade's Widget v2 fails naming its kind and version. Then
// CreateReplace upgrades.
func TestCRDsUpgradeSkipAndCreateLeaveTheCRD(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := crdGroup(t, ns)
	kit := repository(t, ns, crdChart(group))
	hr := release(t, ns, "keep", "crdapp", "")
	controllertest.WaitReady(t, kube, hr)
	widgets := "widgets." + group
	first := crd(t, widgets)

	publish(t, kit, ns, crdChartNext(group))
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "the upgrade failed", func(o *helmv2.HelmRelease) bool {
		c := condition(o, helmv2.ReleasedCondition)
		return c != nil && c.Reason == helmv2.UpgradeFailedReason && readyFalse(o)
	})
	msg := condition(got, meta.ReadyCondition).Message
	if !strings.Contains(msg, "Widget") || !strings.Contains(msg, group+"/v2") {
		t.Errorf("Ready message %q does not name the kind and version", msg)
	}
	if v := servedVersions(t, widgets); !slices.Equal(v, []string{"v1"}) {
		t.Errorf("Widget CRD serves %v under upgrade.crds Skip", v)
	}

	// Create never updates an existing CRD.
	controllertest.Patch(t, kube, got, `{"spec":{"upgrade":{"crds":"Create"}}}`)
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "the upgrade failed again", func(o *helmv2.HelmRelease) bool {
		c := condition(o, helmv2.ReleasedCondition)
		return c != nil && c.Reason == helmv2.UpgradeFailedReason && readyFalse(o) && o.Status.LastAttemptedGeneration == o.Generation
	})
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, group+"/v2") {
		t.Errorf("Ready message %q under Create", msg)
	}
	if now := crd(t, widgets); now.GetResourceVersion() != first.GetResourceVersion() {
		t.Errorf("upgrade.crds Create changed the CRD: resourceVersion %s, was %s", now.GetResourceVersion(), first.GetResourceVersion())
	}

	controllertest.Patch(t, kube, got, `{"spec":{"upgrade":{"crds":"CreateReplace"}}}`)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "upgraded", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation &&
			o.Status.History[0].ChartVersion == "1.1.0" && o.Status.History[0].Status == "deployed"
	})
	if _, err := widgetObject(t, group, "v2", ns, "keep-widget"); err != nil {
		t.Errorf("the release's Widget v2: %v", err)
	}
}

// install.crds Skip: the chart's CRDs are not installed, the rest is.
func TestInstallCRDsSkip(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := crdGroup(t, ns)
	repository(t, ns, helmtest.ConfigMapChart("crdapp", "1.0.0").CRD("widgets.yaml", kindCRD(group, "Widget", "v1")))
	hr := release(t, ns, "skip", "crdapp", "", func(hr *helmv2.HelmRelease) {
		hr.Spec.Install = &helmv2.Install{CRDs: helmv2.Skip}
	})
	controllertest.WaitReady(t, kube, hr)
	if crd(t, "widgets."+group) != nil {
		t.Error("install.crds Skip installed the CRD")
	}
	if _, err := configMap(t, ns, "skip-crdapp"); err != nil {
		t.Errorf("the release's ConfigMap: %v", err)
	}
}

// A CRD the API server refuses fails the install naming it and its file;
// nothing else is installed.
func TestInvalidCRDFailsNamingIt(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := crdGroup(t, ns)
	bad := strings.Replace(kindCRD(group, "Gadget", "v1"), "scope: Namespaced", "scope: Everywhere", 1)
	repository(t, ns, helmtest.ConfigMapChart("crdapp", "1.0.0").
		CRD("widgets.yaml", kindCRD(group, "Widget", "v1")).CRD("gadgets.yaml", bad))
	hr := release(t, ns, "bad", "crdapp", "")
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Ready=False", readyFalse)
	msg := condition(got, meta.ReadyCondition).Message
	if !strings.Contains(msg, "CRD gadgets."+group) || !strings.Contains(msg, "crdapp/crds/gadgets.yaml") || !strings.Contains(msg, "Everywhere") {
		t.Errorf("Ready message %q does not name the CRD, its file and what is wrong", msg)
	}
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.InstallFailedReason {
		t.Errorf("Released = %+v", c)
	}
	if _, err := configMap(t, ns, "bad-crdapp"); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap was installed: %v", err)
	}
	if list := helmList(t, ns); len(list) != 0 {
		t.Errorf("helm list %v", list)
	}
}

// An impersonated account that may not manage CRDs: Ready=False naming it,
// and no CRD is made behind its back.
func TestCRDsAsAnAccountThatMayNot(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	group := crdGroup(t, ns)
	repository(t, ns, crdChart(group))
	create(t, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}})
	create(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "release"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"},
	}}})
	create(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "release"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "release"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "tenant"}}})
	hr := release(t, ns, "tenant", "crdapp", "", func(hr *helmv2.HelmRelease) { hr.Spec.ServiceAccountName = "tenant" })
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Ready=False", readyFalse)
	msg := condition(got, meta.ReadyCondition).Message
	if !strings.Contains(msg, "system:serviceaccount:"+ns+":tenant") || !strings.Contains(msg, "customresourcedefinitions") {
		t.Errorf("Ready message %q does not name the account and what it may not do", msg)
	}
	if crd(t, "widgets."+group) != nil || crd(t, "gadgets."+group) != nil {
		t.Error("a CRD was created for an account that may not")
	}
	if _, err := configMap(t, ns, "tenant-crdapp"); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap was installed: %v", err)
	}
}
