package install

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/controller/names"
)

// The web UI's port, component label and the group whose Deployment serves
// it in the split layout: the applier, the one that may read every kind.
const (
	webPort      = 9080
	webComponent = "driftless-web"
	webGroup     = "kustomize"
)

// webFiles are the UI's Service, RBAC, with an authenticating proxy the
// right to impersonate and, with network policies, its policy: unless the
// install leaves the UI out, or no Deployment serves it (a split install
// without the applier).
func webFiles(o Options, controllers []string) []string {
	if !servesWeb(o, controllers) {
		return nil
	}
	files := []string{"manager/web.yaml"}
	if o.WebAuthProxyCASecret != "" {
		files = append(files, "manager/web_auth_proxy.yaml")
	}
	if o.NetworkPolicy {
		files = append(files, "manager/web_network_policy.yaml")
	}
	return files
}

// servesWeb tells whether the Deployment running runs serves the UI: the
// single layout's one, or the split layout's applier.
func servesWeb(o Options, runs []string) bool {
	return o.Web && (!o.IsSplit() || slices.Contains(runs, webGroup))
}

// webDeployment is the app label and ServiceAccount of the Deployment
// that serves the UI.
func webDeployment(o Options) string {
	if o.IsSplit() {
		return names.Deployment(webGroup)
	}
	return DeploymentName
}

// selectWebPods points the UI's objects at the Deployment that serves it.
func selectWebPods(obj *unstructured.Unstructured, o Options) error {
	if obj.GetLabels()["app.kubernetes.io/component"] != webComponent {
		return nil
	}
	app := webDeployment(o)
	switch obj.GetKind() {
	case "Service":
		if err := unstructured.SetNestedField(obj.Object, app, "spec", "selector", "app"); err != nil {
			return err
		}
		return webServiceProtocol(obj, o)
	case "NetworkPolicy":
		return unstructured.SetNestedField(obj.Object, app, "spec", "podSelector", "matchLabels", "app")
	case "ClusterRoleBinding":
		subjects, _, err := unstructured.NestedSlice(obj.Object, "subjects")
		if err != nil {
			return err
		}
		for _, s := range subjects {
			if m, ok := s.(map[string]any); ok && m["kind"] == "ServiceAccount" {
				m["name"] = app
			}
		}
		return unstructured.SetNestedSlice(obj.Object, subjects, "subjects")
	}
	return nil
}

// webContainer adds --web-addr and the named port to the container c of a
// Deployment that serves the UI.
func webContainer(c map[string]any) {
	c["args"] = append(c["args"].([]any), "--web-addr=:9080")
	ports, _ := c["ports"].([]any)
	c["ports"] = append(ports, map[string]any{"name": "http-web", "containerPort": int64(webPort), "protocol": "TCP"})
}

// webServiceProtocol marks the Service's port appProtocol https when the UI
// serves TLS: ingress controllers and meshes that read it (or guess from
// the port's name, http-web) then speak TLS to it rather than plain HTTP.
func webServiceProtocol(obj *unstructured.Unstructured, o Options) error {
	if o.WebTLSSecret == "" {
		return nil
	}
	ports, _, err := unstructured.NestedSlice(obj.Object, "spec", "ports")
	if err != nil {
		return err
	}
	for _, p := range ports {
		if m, ok := p.(map[string]any); ok {
			m["appProtocol"] = "https"
		}
	}
	return unstructured.SetNestedSlice(obj.Object, ports, "spec", "ports")
}
