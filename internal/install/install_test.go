package install

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func TestRenderDefaults(t *testing.T) {
	objs, err := Render(DefaultOptions("v1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	if objs[0].GetKind() != "Namespace" || objs[0].GetName() != "flux-system" {
		t.Fatalf("first object is %s/%s, want the namespace", objs[0].GetKind(), objs[0].GetName())
	}
	crds := 0
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			crds++
		}
		l := o.GetLabels()
		if l[InstanceLabel] != "flux-system" || l[PartOfLabel] != "flux" || l[VersionLabel] != "v1.2.3" {
			t.Errorf("%s %s labels %v", o.GetKind(), o.GetName(), l)
		}
	}
	// Flux's 14 and the ArtifactGenerator's: every CRD is installed
	// whichever components run (unlike Flux, which installs source-watcher's
	// only with that component).
	if crds != 15 {
		t.Errorf("%d CRDs, want 15", crds)
	}
	for _, want := range [][2]string{
		{"ServiceAccount", DeploymentName}, {"Deployment", DeploymentName},
		{"Service", "source-controller"}, {"Service", DeploymentName},
		{"ClusterRole", "driftless-manager-flux-system"}, {"ClusterRoleBinding", "cluster-reconciler-flux-system"},
		{"NetworkPolicy", "allow-egress"}, {"NetworkPolicy", "allow-scraping"},
	} {
		if find(objs, want[0], want[1]) == nil {
			t.Errorf("no %s %s", want[0], want[1])
		}
	}
	d := find(objs, "Deployment", DeploymentName)
	c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if img := c[0].(map[string]any)["image"]; img != "ghcr.io/driftless/driftless-controller:v1.2.3" {
		t.Errorf("image %v", img)
	}
	// Flux's default components: the image controllers are extra.
	if args := argsOf(d); !strings.Contains(args, "--controllers=source,kustomize,helm,notification ") && !strings.HasSuffix(args, "--controllers=source,kustomize,helm,notification") {
		t.Errorf("default install runs %s; want Flux's default components", args)
	}
}

func argsOf(d *unstructured.Unstructured) string {
	c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	var s []string
	for _, a := range c[0].(map[string]any)["args"].([]any) {
		s = append(s, a.(string))
	}
	return strings.Join(s, " ")
}

func TestRenderOptions(t *testing.T) {
	o := DefaultOptions("v1")
	o.Namespace = "gitops"
	o.Registry = "registry.local/mirror/"
	o.ImagePullSecret = "regcred"
	o.NetworkPolicy = false
	o.WatchAllNamespaces = false
	o.LogLevel = "debug"
	o.ClusterDomain = "corp.example"
	o.TolerationKeys = []string{"dedicated"}
	o.Components = []string{"source-controller", "notification-controller"}
	objs, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if obj.GetKind() == "NetworkPolicy" {
			t.Errorf("network policy %s rendered with NetworkPolicy=false", obj.GetName())
		}
		if obj.GetNamespace() != "" && obj.GetNamespace() != "gitops" {
			t.Errorf("%s %s in namespace %s", obj.GetKind(), obj.GetName(), obj.GetNamespace())
		}
		if strings.Contains(obj.GetName(), "flux-system") {
			t.Errorf("%s %s still named for flux-system", obj.GetKind(), obj.GetName())
		}
	}
	crb := find(objs, "ClusterRoleBinding", "driftless-manager-gitops")
	subjects, _, _ := unstructured.NestedSlice(crb.Object, "subjects")
	if ns := subjects[0].(map[string]any)["namespace"]; ns != "gitops" {
		t.Errorf("subject namespace %v", ns)
	}
	if ref, _, _ := unstructured.NestedString(crb.Object, "roleRef", "name"); ref != "driftless-manager-gitops" {
		t.Errorf("roleRef %s", ref)
	}
	d := find(objs, "Deployment", DeploymentName)
	args := argsOf(d)
	for _, want := range []string{"--watch-all-namespaces=false", "--log-level=debug", "--controllers=source",
		"--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.corp.example."} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if s, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "imagePullSecrets"); len(s) != 1 {
		t.Errorf("imagePullSecrets %v", s)
	}
	if s, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "tolerations"); len(s) != 1 {
		t.Errorf("tolerations %v", s)
	}
	if o.Image() != "registry.local/mirror/driftless-controller:v1" {
		t.Errorf("image %s", o.Image())
	}
	if _, missing, _ := o.Controllers(); len(missing) != 0 {
		t.Errorf("missing %v: every default component is built", missing)
	}
}

func TestRenderRefusesBadOptions(t *testing.T) {
	for name, mut := range map[string]func(*Options){
		"unknown component": func(o *Options) { o.Components = []string{"bogus-controller"} },
		"nothing runnable":  func(o *Options) { o.Components, o.ComponentsExtra = nil, nil },
		"log level":         func(o *Options) { o.LogLevel = "loud" },
		"no namespace":      func(o *Options) { o.Namespace = "" },
	} {
		o := DefaultOptions("v1")
		mut(&o)
		if _, err := Render(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestYAMLRoundTrips(t *testing.T) {
	o := DefaultOptions("v1")
	objs, _ := Render(o)
	data, err := YAML(objs, o, "a test")
	if err != nil {
		t.Fatal(err)
	}
	back, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(objs) {
		t.Fatalf("%d objects back, want %d", len(back), len(objs))
	}
}
