package install

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRenderWebSecrets: the Deployment that serves the UI, and only it,
// mounts the UI's Secrets read-only and gets the controller's flags for
// them; the right to impersonate comes with the proxy CA only, bound to
// that Deployment's ServiceAccount.
func TestRenderWebSecrets(t *testing.T) {
	for _, tc := range []struct {
		name            string
		split           bool
		namespace       string
		tls, proxyCA    string
		volumes, mounts []string
		args            []string
		serves          string // the Deployment that serves the UI
	}{
		{
			name: "no secrets", serves: DeploymentName,
		},
		{
			name: "TLS only", tls: "web-cert", serves: DeploymentName,
			volumes: []string{"web-tls=web-cert"},
			mounts:  []string{"web-tls:/etc/driftless/web-tls:ro"},
			args:    []string{"--web-tls-cert=/etc/driftless/web-tls/tls.crt", "--web-tls-key=/etc/driftless/web-tls/tls.key"},
		},
		{
			name: "TLS and a proxy CA", tls: "web-cert", proxyCA: "proxy-ca", serves: DeploymentName,
			volumes: []string{"web-tls=web-cert", "web-auth-proxy=proxy-ca"},
			mounts:  []string{"web-tls:/etc/driftless/web-tls:ro", "web-auth-proxy:/etc/driftless/web-auth-proxy:ro"},
			args: []string{"--web-tls-cert=/etc/driftless/web-tls/tls.crt", "--web-tls-key=/etc/driftless/web-tls/tls.key",
				"--web-auth-proxy-ca=/etc/driftless/web-auth-proxy/ca.crt"},
		},
		{
			name: "one Secret for both, mounted once", tls: "web-cert", proxyCA: "web-cert", serves: DeploymentName,
			volumes: []string{"web-tls=web-cert"},
			mounts:  []string{"web-tls:/etc/driftless/web-tls:ro"},
			args: []string{"--web-tls-cert=/etc/driftless/web-tls/tls.crt", "--web-tls-key=/etc/driftless/web-tls/tls.key",
				"--web-auth-proxy-ca=/etc/driftless/web-tls/ca.crt"},
		},
		{
			name: "split: on the applier only", split: true, tls: "web-cert", proxyCA: "proxy-ca", serves: "kustomize-controller",
			volumes: []string{"web-tls=web-cert", "web-auth-proxy=proxy-ca"},
			mounts:  []string{"web-tls:/etc/driftless/web-tls:ro", "web-auth-proxy:/etc/driftless/web-auth-proxy:ro"},
			args: []string{"--web-tls-cert=/etc/driftless/web-tls/tls.crt", "--web-tls-key=/etc/driftless/web-tls/tls.key",
				"--web-auth-proxy-ca=/etc/driftless/web-auth-proxy/ca.crt"},
		},
		{
			name: "another namespace", namespace: "gitops", tls: "web-cert", proxyCA: "web-cert", serves: DeploymentName,
			volumes: []string{"web-tls=web-cert"},
			mounts:  []string{"web-tls:/etc/driftless/web-tls:ro"},
			args: []string{"--web-tls-cert=/etc/driftless/web-tls/tls.crt", "--web-tls-key=/etc/driftless/web-tls/tls.key",
				"--web-auth-proxy-ca=/etc/driftless/web-tls/ca.crt"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions("v1.2.3")
			o.Split, o.WebTLSSecret, o.WebAuthProxyCASecret = tc.split, tc.tls, tc.proxyCA
			if tc.namespace != "" {
				o.Namespace = tc.namespace
			}
			objs, err := Render(o)
			if err != nil {
				t.Fatal(err)
			}
			deployments := 0
			for _, d := range objs {
				if d.GetKind() != "Deployment" {
					continue
				}
				deployments++
				var wantVolumes, wantMounts, wantArgs []string
				if d.GetName() == tc.serves {
					wantVolumes, wantMounts, wantArgs = tc.volumes, tc.mounts, tc.args
				}
				if got := webVolumes(d); !slices.Equal(got, wantVolumes) {
					t.Errorf("%s volumes %q, want %q", d.GetName(), got, wantVolumes)
				}
				if got := webMounts(d); !slices.Equal(got, wantMounts) {
					t.Errorf("%s mounts %q, want %q", d.GetName(), got, wantMounts)
				}
				if got := webSecretArgs(d); !slices.Equal(got, wantArgs) {
					t.Errorf("%s args %q, want %q", d.GetName(), got, wantArgs)
				}
			}
			if tc.split && deployments < 2 {
				t.Fatalf("split renders %d Deployments", deployments)
			}
			svc := find(objs, "Service", "driftless-web")
			if svc == nil {
				t.Fatal("no Service driftless-web")
			}
			ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
			wantProtocol := ""
			if tc.tls != "" {
				wantProtocol = "https"
			}
			if got, _ := ports[0].(map[string]any)["appProtocol"].(string); len(ports) != 1 || got != wantProtocol {
				t.Errorf("driftless-web's port appProtocol %q, want %q", got, wantProtocol)
			}
			name := "driftless-web-impersonate-" + o.Namespace
			role, binding := find(objs, "ClusterRole", name), find(objs, "ClusterRoleBinding", name)
			if tc.proxyCA == "" {
				if role != nil || binding != nil {
					t.Errorf("without a proxy CA, %s is installed", name)
				}
				for _, obj := range objs {
					if obj.GetKind() == "ClusterRole" && (roleGrants(obj, "", "users", "impersonate") || roleGrants(obj, "", "groups", "impersonate")) {
						t.Errorf("without a proxy CA, %s grants impersonate", obj.GetName())
					}
				}
				return
			}
			if role == nil || binding == nil {
				t.Fatalf("with a proxy CA, no ClusterRole and ClusterRoleBinding %s", name)
			}
			rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
			if want := `[map[apiGroups:[] resources:[users groups] verbs:[impersonate]]]`; fmt.Sprint(rules) != want {
				t.Errorf("%s rules %v, want %s", name, rules, want)
			}
			if got, want := subjects(binding), "ServiceAccount/"+o.Namespace+"/"+tc.serves; got != want {
				t.Errorf("%s binds %s, want %s", name, got, want)
			}
			if ref, _, _ := unstructured.NestedString(binding.Object, "roleRef", "name"); ref != name {
				t.Errorf("%s binds ClusterRole %q", name, ref)
			}
		})
	}
}

// TestRenderWebSecretsRefused: the mistakes are refused before anything is
// rendered, naming the flag to fix.
func TestRenderWebSecretsRefused(t *testing.T) {
	for _, tc := range []struct {
		name         string
		web          bool
		tls, proxyCA string
		want         string
	}{
		{"TLS without the UI", false, "web-cert", "", "--web-tls-secret needs the web UI (--web)"},
		{"proxy without the UI", false, "web-cert", "proxy-ca", "needs the web UI (--web)"},
		{"proxy without TLS", true, "", "proxy-ca", "--web-auth-proxy-ca-secret needs --web-tls-secret"},
		{"proxy without TLS or the UI", false, "", "proxy-ca", "--web-auth-proxy-ca-secret needs the web UI (--web)"},
		{"bad TLS name", true, "Web_Cert", "", `invalid --web-tls-secret "Web_Cert"`},
		{"bad proxy name", true, "web-cert", "proxy/ca", `invalid --web-auth-proxy-ca-secret "proxy/ca"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions("v1.2.3")
			o.Web, o.WebTLSSecret, o.WebAuthProxyCASecret = tc.web, tc.tls, tc.proxyCA
			objs, err := Render(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %d objects and error %v, want an error containing %q", len(objs), err, tc.want)
			}
		})
	}
}

// TestStaleRevokesImpersonate: an install without the proxy CA deletes the
// grant an earlier install with it left; one with it keeps it.
func TestStaleRevokesImpersonate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		split     bool
		proxyCA   string
		wantStale bool
	}{
		{"single, no proxy", false, "", true},
		{"split, no proxy", true, "", true},
		{"single, proxy", false, "web-cert", false},
		{"split, proxy", true, "web-cert", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions("v1")
			o.Split = tc.split
			if tc.proxyCA != "" {
				o.WebTLSSecret, o.WebAuthProxyCASecret = tc.proxyCA, tc.proxyCA
			}
			stale, err := Stale(o)
			if err != nil {
				t.Fatal(err)
			}
			for _, kind := range []string{"ClusterRole", "ClusterRoleBinding"} {
				got := find(stale, kind, "driftless-web-impersonate-flux-system") != nil
				if got != tc.wantStale {
					t.Errorf("%s driftless-web-impersonate-flux-system stale: %t, want %t", kind, got, tc.wantStale)
				}
			}
		})
	}
}

// webVolumes are a Deployment's Secret volumes named web-*, as
// "name=secret".
func webVolumes(d *unstructured.Unstructured) []string {
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	var out []string
	for _, v := range volumes {
		m := v.(map[string]any)
		if name := m["name"].(string); strings.HasPrefix(name, "web-") {
			secret, _, _ := unstructured.NestedString(m, "secret", "secretName")
			out = append(out, name+"="+secret)
		}
	}
	return out
}

// webMounts are the mounts of the web-* volumes, as "name:path:ro" (or
// ":rw" when not read-only).
func webMounts(d *unstructured.Unstructured) []string {
	c, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	mounts, _ := c[0].(map[string]any)["volumeMounts"].([]any)
	var out []string
	for _, v := range mounts {
		m := v.(map[string]any)
		if name := m["name"].(string); strings.HasPrefix(name, "web-") {
			mode := ":rw"
			if m["readOnly"] == true {
				mode = ":ro"
			}
			out = append(out, name+":"+m["mountPath"].(string)+mode)
		}
	}
	return out
}

// webSecretArgs are a Deployment's arguments that read the UI's Secrets.
func webSecretArgs(d *unstructured.Unstructured) []string {
	var out []string
	for _, a := range strings.Fields(argsOf(d)) {
		if strings.HasPrefix(a, "--web-tls-") || strings.HasPrefix(a, "--web-auth-proxy-") {
			out = append(out, a)
		}
	}
	return out
}
