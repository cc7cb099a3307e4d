package install

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rule is one RBAC rule with its scope: cluster-wide or in a namespace.
type rule struct {
	namespace        string
	groups, resource []string
	verbs            []string
}

// grants are the rules the objects bind to the ServiceAccount ns/sa, and
// whether it is bound to cluster-admin.
func grants(t *testing.T, objs []*unstructured.Unstructured, ns, sa string) (rules []rule, clusterAdmin bool) {
	t.Helper()
	for _, b := range objs {
		if b.GetKind() != "ClusterRoleBinding" && b.GetKind() != "RoleBinding" {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		if !slices.ContainsFunc(subjects, func(s any) bool {
			m := s.(map[string]any)
			return m["kind"] == "ServiceAccount" && m["name"] == sa && m["namespace"] == ns
		}) {
			continue
		}
		refKind, _, _ := unstructured.NestedString(b.Object, "roleRef", "kind")
		refName, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
		if refName == "cluster-admin" {
			clusterAdmin = true
			continue
		}
		role := find(objs, refKind, refName)
		if role == nil {
			t.Fatalf("%s %s refers to %s %s, which is not rendered", b.GetKind(), b.GetName(), refKind, refName)
		}
		list, _, _ := unstructured.NestedSlice(role.Object, "rules")
		for _, r := range list {
			m := r.(map[string]any)
			rules = append(rules, rule{namespace: b.GetNamespace(), groups: strs(m["apiGroups"]),
				resource: strs(m["resources"]), verbs: strs(m["verbs"])})
		}
	}
	return rules, clusterAdmin
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// allows tells whether the rules let verb act on group/resource cluster-wide
// (namespace "") or in namespace ns.
func allows(rules []rule, ns, verb, group, resource string) bool {
	for _, r := range rules {
		if r.namespace != "" && r.namespace != ns {
			continue
		}
		if (slices.Contains(r.groups, group) || slices.Contains(r.groups, "*")) &&
			(slices.Contains(r.resource, resource) || slices.Contains(r.resource, "*")) &&
			(slices.Contains(r.verbs, verb) || slices.Contains(r.verbs, "*")) {
			return true
		}
	}
	return false
}

func deployments(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			out = append(out, o)
		}
	}
	return out
}

func podSpec(d *unstructured.Unstructured) map[string]any {
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	return spec
}

func argValue(d *unstructured.Unstructured, flag string) (string, bool) {
	for _, a := range strings.Fields(argsOf(d)) {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
		if a == flag {
			return "", true
		}
	}
	return "", false
}

func TestRenderSplit(t *testing.T) {
	o := DefaultOptions("v1")
	o.Namespace = "gitops"
	o.Split = true
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Deployment", "ServiceAccount", "Service", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		if find(objs, kind, DeploymentName) != nil || find(objs, kind, "driftless-manager-gitops") != nil {
			t.Errorf("the split layout renders the single layout's %s", kind)
		}
	}
	for _, want := range [][2]string{
		{"ServiceAccount", "source-controller"}, {"ServiceAccount", "kustomize-controller"},
		{"Deployment", "source-controller"}, {"Deployment", "kustomize-controller"},
		{"Service", "source-controller"}, {"ClusterRoleBinding", "cluster-reconciler-gitops"},
		{"ClusterRole", "flux-edit-gitops"}, {"ClusterRole", "flux-view-gitops"},
		{"NetworkPolicy", "allow-egress"}, {"NetworkPolicy", "allow-scraping"},
	} {
		if find(objs, want[0], want[1]) == nil {
			t.Errorf("no %s %s", want[0], want[1])
		}
	}
	if names, _ := o.Deployments(); strings.Join(names, ",") != "source-controller,kustomize-controller,helm-controller,notification-controller" {
		t.Errorf("Deployments() = %v", names)
	}

	// The source side: no cluster-admin, its kinds, get (only) on Secrets.
	rules, admin := grants(t, objs, "gitops", "source-controller")
	if admin {
		t.Error("source-controller is bound to cluster-admin")
	}
	for _, want := range [][3]string{
		{"watch", "source.toolkit.fluxcd.io", "gitrepositories"}, {"patch", "source.toolkit.fluxcd.io", "gitrepositories/status"},
		{"get", "", "secrets"}, {"get", "", "serviceaccounts"}, {"create", "", "events"}, {"create", "events.k8s.io", "events"},
		{"watch", "source.toolkit.fluxcd.io", "ocirepositories"}, {"patch", "source.toolkit.fluxcd.io", "ocirepositories/status"},
	} {
		if !allows(rules, "gitops", want[0], want[1], want[2]) {
			t.Errorf("source-controller may not %s %s %s", want[0], want[1], want[2])
		}
	}
	for _, deny := range [][3]string{
		{"list", "", "secrets"}, {"watch", "", "secrets"}, {"get", "", "configmaps"}, {"create", "", "secrets"},
		{"list", "", "serviceaccounts"}, {"create", "apps", "deployments"}, {"create", "", "serviceaccounts/token"},
		{"impersonate", "", "serviceaccounts"}, {"patch", "kustomize.toolkit.fluxcd.io", "kustomizations"},
		{"delete", "source.toolkit.fluxcd.io", "gitrepositories"},
	} {
		if allows(rules, "gitops", deny[0], deny[1], deny[2]) {
			t.Errorf("source-controller may %s %s %s", deny[0], deny[1], deny[2])
		}
	}
	if !allows(rules, "gitops", "update", "coordination.k8s.io", "leases") || allows(rules, "default", "update", "coordination.k8s.io", "leases") {
		t.Error("source-controller must hold leases in its own namespace, and only there")
	}
	// The applier keeps cluster-admin, as Flux's kustomize-controller.
	if _, admin := grants(t, objs, "gitops", "kustomize-controller"); !admin {
		t.Error("kustomize-controller is not bound to cluster-admin")
	}

	src, ks := find(objs, "Deployment", "source-controller"), find(objs, "Deployment", "kustomize-controller")
	for d, want := range map[*unstructured.Unstructured]string{src: "source", ks: "kustomize"} {
		if v, _ := argValue(d, "--controllers"); v != want {
			t.Errorf("%s runs --controllers=%s, want %s", d.GetName(), v, want)
		}
		if sa := podSpec(d)["serviceAccountName"]; sa != d.GetName() {
			t.Errorf("%s runs as %v", d.GetName(), sa)
		}
		if _, ok := argValue(d, "--enable-leader-election"); !ok {
			t.Errorf("%s does not elect a leader", d.GetName())
		}
		if v, _ := argValue(d, "--log-level"); v != "info" {
			t.Errorf("%s --log-level=%s", d.GetName(), v)
		}
	}
	srcID, _ := argValue(src, "--leader-election-id")
	ksID, _ := argValue(ks, "--leader-election-id")
	if srcID == "" || ksID == "" || srcID == ksID || srcID == "driftless-controller-leader-election" {
		t.Errorf("leader-election IDs %q and %q must be set and differ from each other and the single layout's", srcID, ksID)
	}
	// The storage, its flags and its volume belong to the source side.
	if v, _ := argValue(src, "--storage-adv-addr"); v != "source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local." {
		t.Errorf("source-controller --storage-adv-addr=%s", v)
	}
	// The applier downloads artifacts from that address only.
	if v, _ := argValue(ks, "--artifact-servers"); v != "source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local." {
		t.Errorf("kustomize-controller --artifact-servers=%s", v)
	}
	for _, flag := range []string{"--storage-path", "--storage-adv-addr"} {
		if _, ok := argValue(ks, flag); ok {
			t.Errorf("kustomize-controller has %s", flag)
		}
	}
	if !hasVolume(src, "data") || hasVolume(ks, "data") {
		t.Error("the storage volume must be on source-controller only")
	}
	svc := find(objs, "Service", "source-controller")
	if sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector"); sel["app"] != "source-controller" {
		t.Errorf("the source-controller Service selects %v", sel)
	}
	if tmpl, _, _ := unstructured.NestedStringMap(src.Object, "spec", "template", "metadata", "labels"); tmpl["app"] != "source-controller" {
		t.Errorf("source-controller pods are labelled %v", tmpl)
	}
	if _, ok := argValue(ks, "--default-service-account"); ok {
		t.Error("--split alone must not lock the applier down")
	}
}

func hasVolume(d *unstructured.Unstructured, name string) bool {
	vols, _ := podSpec(d)["volumes"].([]any)
	return slices.ContainsFunc(vols, func(v any) bool { return v.(map[string]any)["name"] == name })
}

func TestRenderMultiTenant(t *testing.T) {
	o := DefaultOptions("v1")
	o.MultiTenant = true
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	if find(objs, "Deployment", DeploymentName) != nil || find(objs, "Deployment", "source-controller") == nil {
		t.Fatal("--multi-tenant must install the split layout")
	}
	ks := find(objs, "Deployment", "kustomize-controller")
	for _, want := range []string{"--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=default"} {
		if !strings.Contains(argsOf(ks), want) {
			t.Errorf("kustomize-controller args %q lack %q", argsOf(ks), want)
		}
	}
	if args := argsOf(find(objs, "Deployment", "source-controller")); strings.Contains(args, "--default-service-account") ||
		strings.Contains(args, "--no-cross-namespace-refs") {
		t.Errorf("the lockdown flags are for the applier, not source-controller: %s", args)
	}
}

func TestRenderSplitClusterDomain(t *testing.T) {
	o := DefaultOptions("v1")
	o.Split = true
	o.ClusterDomain = "corp.example"
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	adv, _ := argValue(find(objs, "Deployment", "source-controller"), "--storage-adv-addr")
	trusted, _ := argValue(find(objs, "Deployment", "kustomize-controller"), "--artifact-servers")
	if adv != "source-controller.$(RUNTIME_NAMESPACE).svc.corp.example." || trusted != adv {
		t.Errorf("--storage-adv-addr=%s, --artifact-servers=%s; want both in corp.example", adv, trusted)
	}
}

func TestRenderSplitSourceOnly(t *testing.T) {
	o := DefaultOptions("v1")
	o.Split = true
	o.Components = []string{"source-controller"}
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	if d := deployments(objs); len(d) != 1 || d[0].GetName() != "source-controller" {
		t.Fatalf("deployments %v", d)
	}
	if find(objs, "ClusterRoleBinding", "cluster-reconciler-flux-system") != nil {
		t.Error("nothing may be bound to cluster-admin without the applier")
	}
}

// TestEveryEmptyDirIsBounded: an unbounded emptyDir lets a huge repository
// or build fill the node's disk.
func TestEveryEmptyDirIsBounded(t *testing.T) {
	for _, split := range []bool{false, true} {
		o := DefaultOptions("v1")
		o.Split = split
		objs, err := Render(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deployments(objs) {
			vols, _ := podSpec(d)["volumes"].([]any)
			if len(vols) == 0 {
				t.Errorf("%s has no volumes", d.GetName())
			}
			for _, v := range vols {
				m := v.(map[string]any)
				if ed, ok := m["emptyDir"].(map[string]any); ok && ed["sizeLimit"] == nil {
					t.Errorf("%s: emptyDir %v has no sizeLimit", d.GetName(), m["name"])
				}
			}
		}
	}
}

// TestServiceAccountsExist: every Deployment runs as, and every binding
// names, a ServiceAccount the install creates.
func TestServiceAccountsExist(t *testing.T) {
	for _, split := range []bool{false, true} {
		o := DefaultOptions("v1")
		o.Split = split
		objs, err := Render(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range objs {
			var names []string
			switch obj.GetKind() {
			case "Deployment":
				names = append(names, podSpec(obj)["serviceAccountName"].(string))
			case "ClusterRoleBinding", "RoleBinding":
				subjects, _, _ := unstructured.NestedSlice(obj.Object, "subjects")
				for _, s := range subjects {
					names = append(names, s.(map[string]any)["name"].(string))
				}
			}
			for _, n := range names {
				if find(objs, "ServiceAccount", n) == nil {
					t.Errorf("split=%t: %s %s names ServiceAccount %s, which is not installed", split, obj.GetKind(), obj.GetName(), n)
				}
			}
		}
	}
}

func TestStaleIsTheOtherLayout(t *testing.T) {
	refs := func(objs []*unstructured.Unstructured) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.GetKind()+"/"+o.GetName())
		}
		slices.Sort(out)
		return out
	}
	// The groups before source-watcher, whose objects TestStaleSourceWatcher
	// checks: this list holds whether or not the image runs it.
	implemented := slices.DeleteFunc(slices.Clone(Implemented), func(g string) bool { return g == "source-watcher" })
	single := DefaultOptions("v1")
	left, err := stale(single, implemented)
	if err != nil {
		t.Fatal(err)
	}
	// The source-controller Service and cluster-reconciler binding are in
	// both layouts: updated, not stale. The UI's right to impersonate is
	// in neither without --web-auth-proxy-ca-secret: stale.
	want := []string{"ClusterRole/driftless-image-automation-flux-system", "ClusterRole/driftless-image-reflector-flux-system",
		"ClusterRole/driftless-notification-flux-system", "ClusterRole/driftless-source-flux-system",
		"ClusterRole/driftless-web-impersonate-flux-system",
		"ClusterRoleBinding/cluster-reconciler-helm-flux-system", "ClusterRoleBinding/driftless-image-automation-flux-system",
		"ClusterRoleBinding/driftless-image-reflector-flux-system", "ClusterRoleBinding/driftless-notification-flux-system",
		"ClusterRoleBinding/driftless-source-flux-system", "ClusterRoleBinding/driftless-web-impersonate-flux-system",
		"Deployment/helm-controller", "Deployment/image-automation-controller",
		"Deployment/image-reflector-controller",
		"Deployment/kustomize-controller", "Deployment/notification-controller", "Deployment/source-controller",
		"Role/image-automation-controller", "Role/image-reflector-controller", "Role/notification-controller", "Role/source-controller",
		"RoleBinding/image-automation-controller", "RoleBinding/image-reflector-controller", "RoleBinding/notification-controller",
		"RoleBinding/source-controller", "ServiceAccount/helm-controller", "ServiceAccount/image-automation-controller",
		"ServiceAccount/image-reflector-controller",
		"ServiceAccount/kustomize-controller", "ServiceAccount/notification-controller", "ServiceAccount/source-controller"}
	if got := refs(left); !slices.Equal(got, want) {
		t.Errorf("stale after a single install:\n got %v\nwant %v", got, want)
	}

	split := DefaultOptions("v1")
	split.MultiTenant = true
	// Dropping the applier keeps its binding to cluster-admin: it may
	// still run, as Flux leaves a dropped component.
	split.Components = []string{"source-controller"}
	left, err = stale(split, implemented)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"ClusterRole/driftless-manager-flux-system", "ClusterRole/driftless-web-impersonate-flux-system",
		"ClusterRoleBinding/driftless-manager-flux-system", "ClusterRoleBinding/driftless-web-impersonate-flux-system",
		"Deployment/driftless-controller", "Role/driftless-controller", "RoleBinding/driftless-controller",
		"Service/driftless-controller", "ServiceAccount/driftless-controller"}
	if got := refs(left); !slices.Equal(got, want) {
		t.Errorf("stale after a split install:\n got %v\nwant %v", got, want)
	}
}
