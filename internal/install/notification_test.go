package install

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// withNotification is the list of groups once the notification group is
// implemented.
var withNotification = append(slices.Clone(Implemented), notificationGroup)

func notificationOptions(split bool) Options {
	o := DefaultOptions("v1.2.3") // Flux's default components include notification-controller
	o.Split = split
	return o
}

func servicePort(t *testing.T, svc *unstructured.Unstructured) (port, target int64, app string) {
	t.Helper()
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 {
		t.Fatalf("Service %s has %d ports", svc.GetName(), len(ports))
	}
	p := ports[0].(map[string]any)
	app, _, _ = unstructured.NestedString(svc.Object, "spec", "selector", "app")
	return num(p["port"]), num(p["targetPort"]), app
}

// num reads a number of a decoded manifest, however it was decoded.
func num(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case int:
		return int64(n)
	}
	return -1
}

func TestNotificationServicesAndPolicy(t *testing.T) {
	for _, split := range []bool{false, true} {
		objs, err := render(notificationOptions(split), withNotification)
		if err != nil {
			t.Fatal(err)
		}
		app := DeploymentName
		if split {
			app = "notification-controller"
			if find(objs, "Deployment", app) == nil {
				t.Fatal("no notification-controller Deployment in the split layout")
			}
		}
		for name, want := range map[string]int64{"notification-controller": 9091, "webhook-receiver": 9292} {
			svc := find(objs, "Service", name)
			if svc == nil {
				t.Fatalf("split=%v: no Service %s", split, name)
			}
			port, target, selects := servicePort(t, svc)
			if port != 80 || target != want || selects != app || svc.GetNamespace() != "flux-system" {
				t.Errorf("split=%v: Service %s: port %d -> %d selecting %s", split, name, port, target, selects)
			}
		}
		np := find(objs, "NetworkPolicy", "allow-webhooks")
		if np == nil {
			t.Fatalf("split=%v: no NetworkPolicy allow-webhooks", split)
		}
		selects, _, _ := unstructured.NestedString(np.Object, "spec", "podSelector", "matchLabels", "app")
		ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
		if selects != app || len(ingress) != 1 {
			t.Fatalf("split=%v: allow-webhooks selects %s with %d rules", split, selects, len(ingress))
		}
		rule := ingress[0].(map[string]any)
		ports := rule["ports"].([]any)
		if _, limited := rule["from"]; limited || len(ports) != 1 || num(ports[0].(map[string]any)["port"]) != 9292 {
			t.Errorf("split=%v: allow-webhooks admits %v", split, rule)
		}
		// No policy admits the event endpoint from outside the namespace.
		for _, o := range objs {
			if o.GetKind() != "NetworkPolicy" {
				continue
			}
			rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "ingress")
			for _, r := range rules {
				m := r.(map[string]any)
				if fromNamespaceOnly(m) {
					continue
				}
				ps, _ := m["ports"].([]any)
				if len(ps) == 0 {
					t.Errorf("%s admits every port from outside the namespace", o.GetName())
				}
				for _, p := range ps {
					if num(p.(map[string]any)["port"]) == 9091 {
						t.Errorf("%s admits the event endpoint from outside the namespace", o.GetName())
					}
				}
			}
		}
	}
}

// fromNamespaceOnly tells an ingress rule whose sources are only pods of
// the policy's namespace.
func fromNamespaceOnly(rule map[string]any) bool {
	from, ok := rule["from"].([]any)
	if !ok || len(from) == 0 {
		return false
	}
	for _, f := range from {
		if _, ns := f.(map[string]any)["namespaceSelector"]; ns {
			return false
		}
	}
	return true
}

// The split layout's other controllers post their events to the
// notification-controller Service, as Flux's controllers do.
func TestSplitControllersPostEvents(t *testing.T) {
	o := notificationOptions(true)
	o.ClusterDomain = "example.internal"
	objs, err := render(o, withNotification)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"source-controller", "kustomize-controller", "helm-controller"} {
		if args := argsOf(find(objs, "Deployment", name)); !strings.Contains(args,
			"--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.example.internal./") {
			t.Errorf("%s: %s", name, args)
		}
	}
	if args := argsOf(find(objs, "Deployment", "notification-controller")); strings.Contains(args, "--events-addr") {
		t.Errorf("notification-controller posts to itself: %s", args)
	}
}

// Without the notification component nothing of it is installed, and
// without network policies no allow-webhooks either.
func TestNoNotificationObjectsUnlessInstalled(t *testing.T) {
	without := DefaultOptions("v1.2.3")
	without.Components = slices.DeleteFunc(without.Components, func(c string) bool { return c == "notification-controller" })
	objs, err := render(without, withNotification)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" && o.GetLabels()["app.kubernetes.io/component"] == "notification-controller" {
			t.Errorf("%s %s installed without the component", o.GetKind(), o.GetName())
		}
	}
	if args := argsOf(find(objs, "Deployment", DeploymentName)); strings.Contains(args, "--events-addr") {
		t.Errorf("posts events without a notification controller: %s", args)
	}
	o := notificationOptions(false)
	o.NetworkPolicy = false
	objs, err = render(o, withNotification)
	if err != nil {
		t.Fatal(err)
	}
	if find(objs, "NetworkPolicy", "allow-webhooks") != nil || find(objs, "Service", "webhook-receiver") == nil {
		t.Error("network policies off: allow-webhooks installed or the Services missing")
	}
}

// TestSplitNotificationReachesEveryEventSourceKind: in the split layout the
// notification controller may read (Alerts match labels) and patch
// (Receivers set requestedAt) every kind the Alert and Receiver enums name,
// ArtifactGenerators and ExternalArtifacts included.
func TestSplitNotificationReachesEveryEventSourceKind(t *testing.T) {
	objs, err := render(notificationOptions(true), withNotification)
	if err != nil {
		t.Fatal(err)
	}
	rules, admin := grants(t, objs, baseNamespace, "notification-controller")
	if admin {
		t.Fatal("notification-controller is cluster-admin")
	}
	for group, resources := range map[string][]string{
		"source.toolkit.fluxcd.io":    {"gitrepositories", "ocirepositories", "buckets", "helmrepositories", "helmcharts", "externalartifacts"},
		"source.extensions.fluxcd.io": {"artifactgenerators"},
		"kustomize.toolkit.fluxcd.io": {"kustomizations"},
		"helm.toolkit.fluxcd.io":      {"helmreleases"},
		"image.toolkit.fluxcd.io":     {"imagerepositories", "imagepolicies", "imageupdateautomations"},
	} {
		for _, res := range resources {
			for _, verb := range []string{"list", "watch", "patch"} {
				if !allows(rules, baseNamespace, verb, group, res) {
					t.Errorf("notification-controller may not %s %s.%s", verb, res, group)
				}
			}
		}
	}
}
