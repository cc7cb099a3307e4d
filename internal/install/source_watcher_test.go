package install

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/controller/names"
)

// withSourceWatcher is the implemented list once the image runs the
// source-watcher group: these tests render the component before the
// controller lands, through render's seam, and stay true after.
func withSourceWatcher() []string {
	impl := slices.Clone(names.Implemented)
	if !slices.Contains(impl, names.SourceWatcher) {
		impl = append(impl, names.SourceWatcher)
	}
	return impl
}

// renderWatcher renders o with source-watcher among the extra components.
func renderWatcher(t *testing.T, o Options) []*unstructured.Unstructured {
	t.Helper()
	o.ComponentsExtra = append(o.ComponentsExtra, "source-watcher")
	objs, err := render(o, withSourceWatcher())
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

const (
	swAddr  = "source-watcher.$(RUNTIME_NAMESPACE).svc.cluster.local."
	srcAddr = "source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."
)

// sourceWatcherNeeds are what the group does at runtime: its kind with
// status and finalizers, the ExternalArtifacts it writes, the sources it
// reads, and events.
var sourceWatcherNeeds = func() [][3]string {
	var out [][3]string
	for _, verb := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
		for _, res := range []string{"artifactgenerators", "artifactgenerators/status", "artifactgenerators/finalizers"} {
			out = append(out, [3]string{verb, "source.extensions.fluxcd.io", res})
		}
		for _, res := range []string{"externalartifacts", "externalartifacts/status"} {
			out = append(out, [3]string{verb, "source.toolkit.fluxcd.io", res})
		}
	}
	for _, verb := range []string{"get", "list", "watch"} {
		for _, res := range []string{"gitrepositories", "ocirepositories", "buckets", "helmcharts", "externalartifacts"} {
			out = append(out, [3]string{verb, "source.toolkit.fluxcd.io", res})
		}
	}
	return append(out, [3]string{"create", "", "events"}, [3]string{"create", "events.k8s.io", "events"})
}()

func TestRenderSourceWatcherSingle(t *testing.T) {
	objs := renderWatcher(t, DefaultOptions("v1"))
	d := find(objs, "Deployment", DeploymentName)
	if v, _ := argValue(d, "--controllers"); v != "source,kustomize,helm,notification,source-watcher" {
		t.Errorf("driftless-controller --controllers=%s; want the defaults and source-watcher", v)
	}
	// One storage, one server: the ExternalArtifacts are served behind
	// source-controller, as every source's artifact.
	if v, _ := argValue(d, "--storage-adv-addr"); v != srcAddr {
		t.Errorf("--storage-adv-addr=%s", v)
	}
	for _, kind := range []string{"Deployment", "Service", "ServiceAccount", "Role"} {
		if find(objs, kind, "source-watcher") != nil {
			t.Errorf("the single layout renders a %s source-watcher", kind)
		}
	}
	rules, _ := grants(t, objs, "flux-system", DeploymentName)
	for _, need := range sourceWatcherNeeds {
		if !allows(rules, "tenant", need[0], need[1], need[2]) {
			t.Errorf("driftless-controller may not %s %s %s", need[0], need[1], need[2])
		}
	}
	if find(objs, "CustomResourceDefinition", "artifactgenerators.source.extensions.fluxcd.io") == nil {
		t.Error("no ArtifactGenerator CRD")
	}

	// Without the extra component the group does not run, even where the
	// image has it: Flux installs source-watcher only on request.
	plain, err := render(DefaultOptions("v1"), withSourceWatcher())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := argValue(find(plain, "Deployment", DeploymentName), "--controllers"); strings.Contains(v, "source-watcher") {
		t.Errorf("a default install runs --controllers=%s", v)
	}
	// Every implemented group selected: no --controllers, it runs all.
	all := DefaultOptions("v1")
	all.Components = Components
	objs, err = render(all, withSourceWatcher())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := argValue(find(objs, "Deployment", DeploymentName), "--controllers"); ok {
		t.Errorf("every component selected, yet --controllers=%s", v)
	}
}

func TestRenderSourceWatcherSplit(t *testing.T) {
	o := DefaultOptions("v1")
	o.Namespace = "gitops"
	o.Split = true
	objs := renderWatcher(t, o)
	sw := find(objs, "Deployment", "source-watcher")
	if sw == nil {
		t.Fatal("no source-watcher Deployment")
	}
	for flag, want := range map[string]string{
		"--controllers": "source-watcher", "--storage-path": "/data", "--storage-adv-addr": swAddr,
		"--artifact-servers": srcAddr, "--leader-election-id": "driftless-source-watcher-leader-election",
		"--events-addr": "http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./",
	} {
		if v, _ := argValue(sw, flag); v != want {
			t.Errorf("source-watcher %s=%s, want %s", flag, v, want)
		}
	}
	if sa := podSpec(sw)["serviceAccountName"]; sa != "source-watcher" {
		t.Errorf("source-watcher runs as %v", sa)
	}
	if c := sw.GetLabels()["app.kubernetes.io/component"]; c != "source-watcher" {
		t.Errorf("component label %q", c)
	}
	if !hasVolume(sw, "data") || !hasVolume(sw, "tmp") {
		t.Error("source-watcher lacks its own storage volume")
	}
	svc := find(objs, "Service", "source-watcher")
	if svc == nil {
		t.Fatal("no source-watcher Service")
	}
	if sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector"); sel["app"] != "source-watcher" {
		t.Errorf("the source-watcher Service selects %v", sel)
	}
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 || fmt.Sprint(ports[0].(map[string]any)["port"]) != "80" || ports[0].(map[string]any)["targetPort"] != "http" {
		t.Errorf("source-watcher Service ports %v, want 80 to http", ports)
	}
	containers, _, _ := unstructured.NestedSlice(sw.Object, "spec", "template", "spec", "containers")
	cports := containers[0].(map[string]any)["ports"].([]any)
	if !slices.ContainsFunc(cports, func(p any) bool {
		m := p.(map[string]any)
		return m["name"] == "http" && fmt.Sprint(m["containerPort"]) == "9090"
	}) {
		t.Errorf("source-watcher container ports %v lack http 9090", cports)
	}

	// Its own RBAC: what it needs, no cluster-admin, no Secret, no other kind.
	rules, admin := grants(t, objs, "gitops", "source-watcher")
	if admin {
		t.Error("source-watcher is bound to cluster-admin")
	}
	for _, need := range sourceWatcherNeeds {
		if !allows(rules, "tenant", need[0], need[1], need[2]) {
			t.Errorf("source-watcher may not %s %s %s", need[0], need[1], need[2])
		}
	}
	for _, deny := range [][3]string{
		{"get", "", "secrets"}, {"list", "", "configmaps"}, {"create", "apps", "deployments"},
		{"patch", "source.toolkit.fluxcd.io", "gitrepositories"}, {"patch", "source.toolkit.fluxcd.io", "gitrepositories/status"},
		{"delete", "source.toolkit.fluxcd.io", "ocirepositories"}, {"patch", "kustomize.toolkit.fluxcd.io", "kustomizations"},
		{"impersonate", "", "serviceaccounts"},
	} {
		if allows(rules, "tenant", deny[0], deny[1], deny[2]) {
			t.Errorf("source-watcher may %s %s %s", deny[0], deny[1], deny[2])
		}
	}
	if !allows(rules, "gitops", "update", "coordination.k8s.io", "leases") || allows(rules, "tenant", "update", "coordination.k8s.io", "leases") {
		t.Error("source-watcher must hold leases in its own namespace, and only there")
	}

	// The appliers trust its server besides source-controller's.
	ks, hr := find(objs, "Deployment", "kustomize-controller"), find(objs, "Deployment", "helm-controller")
	if v, _ := argValue(ks, "--artifact-servers"); v != srcAddr+","+swAddr {
		t.Errorf("kustomize-controller --artifact-servers=%s", v)
	}
	if v, _ := argValue(hr, "--artifact-servers"); v != swAddr {
		t.Errorf("helm-controller --artifact-servers=%s", v)
	}
	if v, _ := argValue(hr, "--storage-adv-addr"); v != srcAddr {
		t.Errorf("helm-controller --storage-adv-addr=%s; the chart sources stay on source-controller", v)
	}
	for _, name := range []string{"source-controller", "notification-controller"} {
		if v, _ := argValue(find(objs, "Deployment", name), "--artifact-servers"); strings.Contains(v, "source-watcher") {
			t.Errorf("%s trusts source-watcher: %s", name, v)
		}
	}
	// The ExternalArtifact gate is on by default in Driftless: no flag.
	for _, d := range deployments(objs) {
		if _, ok := argValue(d, "--feature-gates"); ok {
			t.Errorf("%s has --feature-gates %s", d.GetName(), argsOf(d))
		}
	}
}

func TestRenderSplitWithoutSourceWatcher(t *testing.T) {
	o := DefaultOptions("v1")
	o.Split = true
	objs, err := render(o, withSourceWatcher())
	if err != nil {
		t.Fatal(err)
	}
	if find(objs, "Deployment", "source-watcher") != nil || find(objs, "Service", "source-watcher") != nil {
		t.Error("source-watcher installed without --components-extra")
	}
	if v, _ := argValue(find(objs, "Deployment", "kustomize-controller"), "--artifact-servers"); v != srcAddr {
		t.Errorf("kustomize-controller --artifact-servers=%s", v)
	}
	if v, ok := argValue(find(objs, "Deployment", "helm-controller"), "--artifact-servers"); ok {
		t.Errorf("helm-controller --artifact-servers=%s without source-watcher", v)
	}
}

func TestRenderSourceWatcherClusterDomain(t *testing.T) {
	o := DefaultOptions("v1")
	o.Split = true
	o.ClusterDomain = "corp.example"
	objs := renderWatcher(t, o)
	adv, _ := argValue(find(objs, "Deployment", "source-watcher"), "--storage-adv-addr")
	trusted, _ := argValue(find(objs, "Deployment", "kustomize-controller"), "--artifact-servers")
	want := "source-watcher.$(RUNTIME_NAMESPACE).svc.corp.example."
	if adv != want || !strings.HasSuffix(trusted, ","+want) {
		t.Errorf("--storage-adv-addr=%s, kustomize --artifact-servers=%s; want both in corp.example", adv, trusted)
	}
	if src, _ := argValue(find(objs, "Deployment", "source-watcher"), "--artifact-servers"); src != "source-controller.$(RUNTIME_NAMESPACE).svc.corp.example." {
		t.Errorf("source-watcher --artifact-servers=%s", src)
	}
}

func TestRenderSourceWatcherMultiTenant(t *testing.T) {
	o := DefaultOptions("v1")
	o.MultiTenant = true
	args := argsOf(find(renderWatcher(t, o), "Deployment", "source-watcher"))
	if !strings.Contains(args, "--no-cross-namespace-refs=true") {
		t.Errorf("source-watcher under --multi-tenant: %s", args)
	}
	for _, not := range []string{"--no-remote-bases", "--default-service-account"} {
		if strings.Contains(args, not) {
			t.Errorf("source-watcher has the applier's %s: %s", not, args)
		}
	}
}

// TestSourceWatcherObjectsAreWellFormed: bounded volumes, ServiceAccounts
// that exist, the install's labels (which uninstall selects by).
func TestSourceWatcherObjectsAreWellFormed(t *testing.T) {
	o := DefaultOptions("v1")
	o.Split = true
	objs := renderWatcher(t, o)
	for _, obj := range objs {
		if l := obj.GetLabels(); l[InstanceLabel] != "flux-system" || l[PartOfLabel] != PartOf {
			t.Errorf("%s %s labels %v", obj.GetKind(), obj.GetName(), l)
		}
		var sas []string
		switch obj.GetKind() {
		case "Deployment":
			sas = append(sas, podSpec(obj)["serviceAccountName"].(string))
			vols, _ := podSpec(obj)["volumes"].([]any)
			for _, v := range vols {
				if ed, ok := v.(map[string]any)["emptyDir"].(map[string]any); ok && ed["sizeLimit"] == nil {
					t.Errorf("%s: unbounded emptyDir %v", obj.GetName(), v)
				}
			}
		case "ClusterRoleBinding", "RoleBinding":
			subjects, _, _ := unstructured.NestedSlice(obj.Object, "subjects")
			for _, s := range subjects {
				sas = append(sas, s.(map[string]any)["name"].(string))
			}
		}
		for _, n := range sas {
			if find(objs, "ServiceAccount", n) == nil {
				t.Errorf("%s %s names ServiceAccount %s, which is not installed", obj.GetKind(), obj.GetName(), n)
			}
		}
	}
}

// TestStaleSourceWatcher: switching layouts deletes the split layout's
// source-watcher objects (its Service too: the single layout serves the
// ExternalArtifacts behind source-controller), and keeps them in split.
func TestStaleSourceWatcher(t *testing.T) {
	single := DefaultOptions("v1")
	single.ComponentsExtra = []string{"source-watcher"}
	staleSingle, err := stale(single, withSourceWatcher())
	if err != nil {
		t.Fatal(err)
	}
	split := single
	split.Split = true
	staleSplit, err := stale(split, withSourceWatcher())
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range [][2]string{
		{"Deployment", "source-watcher"}, {"Service", "source-watcher"}, {"ServiceAccount", "source-watcher"},
		{"Role", "source-watcher"}, {"RoleBinding", "source-watcher"},
		{"ClusterRole", "driftless-source-watcher-flux-system"}, {"ClusterRoleBinding", "driftless-source-watcher-flux-system"},
	} {
		if find(staleSingle, ref[0], ref[1]) == nil {
			t.Errorf("a single install leaves the split layout's %s %s", ref[0], ref[1])
		}
		if find(staleSplit, ref[0], ref[1]) != nil {
			t.Errorf("a split install deletes its own %s %s", ref[0], ref[1])
		}
	}
}

// TestUninstallCoversSourceWatcher: flux uninstall deletes, by the
// install's labels, every kind the default install renders; the
// source-watcher objects of either layout add no kind (and no CRD) to
// those, so uninstall removes them too.
func TestUninstallCoversSourceWatcher(t *testing.T) {
	base, err := Render(DefaultOptions("v1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []bool{false, true} {
		o := DefaultOptions("v1")
		o.Split = split
		objs := renderWatcher(t, o)
		crds := 0
		for _, obj := range objs {
			gvk := obj.GroupVersionKind()
			if !slices.ContainsFunc(base, func(b *unstructured.Unstructured) bool { return b.GroupVersionKind() == gvk }) {
				t.Errorf("split=%t: %s %s is of a kind uninstall does not delete", split, gvk.Kind, obj.GetName())
			}
			if gvk.Kind == "CustomResourceDefinition" {
				crds++
				if find(base, gvk.Kind, obj.GetName()) == nil {
					t.Errorf("CRD %s is not in the default install, which uninstall deletes", obj.GetName())
				}
			}
		}
		if crds != 15 {
			t.Errorf("split=%t: %d CRDs, want 15", split, crds)
		}
	}
}
