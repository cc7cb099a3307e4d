package install

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRenderWeb(t *testing.T) {
	objs, err := Render(DefaultOptions("v1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	d := find(objs, "Deployment", DeploymentName)
	if !strings.Contains(argsOf(d), "--web-addr=:9080") {
		t.Errorf("the controller does not serve the UI: %s", argsOf(d))
	}
	if !hasPort(d, "http-web", 9080) {
		t.Error("no named port http-web 9080 on the controller")
	}
	svc := find(objs, "Service", "driftless-web")
	if svc == nil {
		t.Fatal("no driftless-web Service")
	}
	if aff, _, _ := unstructured.NestedString(svc.Object, "spec", "sessionAffinity"); aff != "ClientIP" {
		t.Errorf("sessionAffinity %q, want ClientIP", aff)
	}
	if app, _, _ := unstructured.NestedString(svc.Object, "spec", "selector", "app"); app != DeploymentName {
		t.Errorf("the Service selects %q", app)
	}
	np := find(objs, "NetworkPolicy", "allow-web")
	if np == nil {
		t.Fatal("no allow-web NetworkPolicy")
	}
	ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
	if len(ingress) != 1 {
		t.Fatalf("allow-web ingress %v", ingress)
	}
	rule := ingress[0].(map[string]any)
	from := rule["from"].([]any)
	if len(from) != 1 || len(from[0].(map[string]any)) != 1 || from[0].(map[string]any)["podSelector"] == nil {
		t.Errorf("allow-web admits %v; want the namespace's pods only", from)
	}
	if ports := rule["ports"].([]any); len(ports) != 1 || fmt.Sprint(ports[0].(map[string]any)["port"]) != "9080" {
		t.Errorf("allow-web ports %v", ports)
	}
	role := find(objs, "ClusterRole", "driftless-web-flux-system")
	if role == nil || !roleGrants(role, "authentication.k8s.io", "tokenreviews", "create") || !roleGrants(role, "authorization.k8s.io", "subjectaccessreviews", "create") {
		t.Errorf("the UI's role lacks create on tokenreviews and subjectaccessreviews: %v", role)
	}
	if !roleGrants(role, "", "events", "list") || !roleGrants(role, "", "events", "watch") {
		t.Errorf("the UI's role lacks list and watch on events, which the object page reads as the controller: %v", role)
	}
	if b := find(objs, "ClusterRoleBinding", "driftless-web-flux-system"); b == nil || !strings.Contains(subjects(b), "ServiceAccount/flux-system/"+DeploymentName) {
		t.Error("the UI's role is not bound to the controller's ServiceAccount")
	}
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" && roleGrants(o, "", "users", "impersonate") {
			t.Errorf("%s grants impersonate: the UI acts with the viewer's own token", o.GetName())
		}
	}
}

func TestRenderWithoutWeb(t *testing.T) {
	o := DefaultOptions("v1.2.3")
	o.Web = false
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	if args := argsOf(find(objs, "Deployment", DeploymentName)); strings.Contains(args, "--web") {
		t.Errorf("--web=false still serves the UI: %s", args)
	}
	for _, obj := range objs {
		if obj.GetLabels()["app.kubernetes.io/component"] == webComponent || strings.Contains(obj.GetName(), "web") && obj.GetKind() != "CustomResourceDefinition" && obj.GetName() != "allow-webhooks" && obj.GetName() != "webhook-receiver" {
			t.Errorf("--web=false installs %s %s", obj.GetKind(), obj.GetName())
		}
	}
}

func TestRenderSplitServesWebFromTheApplier(t *testing.T) {
	o := DefaultOptions("v1.2.3")
	o.Split = true
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		serves := strings.Contains(argsOf(obj), "--web-addr=:9080")
		if serves != (obj.GetName() == "kustomize-controller") {
			t.Errorf("%s serves the UI: %t", obj.GetName(), serves)
		}
	}
	if app, _, _ := unstructured.NestedString(find(objs, "Service", "driftless-web").Object, "spec", "selector", "app"); app != "kustomize-controller" {
		t.Errorf("split: the Service selects %q", app)
	}
	if !strings.Contains(subjects(find(objs, "ClusterRoleBinding", "driftless-web-flux-system")), "ServiceAccount/flux-system/kustomize-controller") {
		t.Error("split: the UI's role is not bound to kustomize-controller's ServiceAccount")
	}
}

func hasPort(d *unstructured.Unstructured, name string, port int64) bool {
	c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, p := range c[0].(map[string]any)["ports"].([]any) {
		m := p.(map[string]any)
		if m["name"] == name && m["containerPort"] == port {
			return true
		}
	}
	return false
}

func roleGrants(role *unstructured.Unstructured, group, resource, verb string) bool {
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	for _, r := range rules {
		m := r.(map[string]any)
		if in(m["apiGroups"], group) && in(m["resources"], resource) && in(m["verbs"], verb) {
			return true
		}
	}
	return false
}

func in(list any, v string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func subjects(b *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedSlice(b.Object, "subjects")
	var out []string
	for _, x := range s {
		m := x.(map[string]any)
		out = append(out, m["kind"].(string)+"/"+m["namespace"].(string)+"/"+m["name"].(string))
	}
	return strings.Join(out, ",")
}

func TestStaleRemovesTheWebObjectsLeftOut(t *testing.T) {
	names := func(o Options) string {
		stale, err := Stale(o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, obj := range stale {
			out = append(out, obj.GetKind()+"/"+obj.GetName())
		}
		return strings.Join(out, " ")
	}
	o := DefaultOptions("v1")
	// With the UI, only the proxy mode's grant (not asked for) is stale.
	got := strings.ReplaceAll(names(o), "driftless-web-impersonate-", "")
	if strings.Contains(got, "web") && !strings.Contains(got, "webhook") {
		t.Errorf("with the UI, stale: %s", got)
	}
	o.Web = false
	got = names(o)
	for _, want := range []string{"Service/driftless-web", "NetworkPolicy/allow-web", "ClusterRoleBinding/driftless-web-flux-system"} {
		if !strings.Contains(got, want) {
			t.Errorf("--web=false leaves %s: stale %s", want, got)
		}
	}
}

func TestRenderSplitWithoutTheApplierHasNoWeb(t *testing.T) {
	o := DefaultOptions("v1.2.3")
	o.Split, o.Components = true, []string{"source-controller"}
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if obj.GetLabels()["app.kubernetes.io/component"] == webComponent {
			t.Errorf("no Deployment serves the UI, yet %s %s is installed", obj.GetKind(), obj.GetName())
		}
	}
}
