package apply

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	apimeta "github.com/driftless/driftless/api/meta"
)

// bystander is a valid object given with the bad ones: it must not be
// applied when the set is refused.
const bystander = `
apiVersion: v1
kind: ConfigMap
metadata: {name: bystander, namespace: NS}
---
`

func TestBadInputIsRefusedClearly(t *testing.T) {
	cases := []struct {
		name      string
		manifests string
		opts      func(*ApplyOptions)
		want      []string
		untouched bool // nothing was applied
	}{
		{
			name:      "kind without CRD",
			manifests: bystander + "apiVersion: missing.example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: NS}\n",
			want:      []string{`Widget/NS/w: no matches for kind "Widget" in group "missing.example.com": is the CRD installed?`},
			untouched: true,
		},
		{
			name:      "version the CRD of the set does not serve",
			manifests: bystander + strings.ReplaceAll(crd, "GROUP", "NS.example.com") + "---\napiVersion: NS.example.com/v2\nkind: Widget\nmetadata: {name: w, namespace: NS}\n",
			want:      []string{`Widget/NS/w: no matches for kind "Widget" in group "NS.example.com": is the CRD installed?`},
			untouched: true,
		},
		{
			name:      "namespace that does not exist",
			manifests: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: NS-missing}\n",
			want:      []string{`ConfigMap/NS-missing/cm: dry-run failed: namespace "NS-missing" not found`},
		},
		{
			name:      "namespaced object without namespace",
			manifests: bystander + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
			want:      []string{"ConfigMap/cm: namespace not specified"},
			untouched: true,
		},
		{
			name: "invalid object",
			manifests: bystander + `apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: NS}
spec:
  selector: {matchLabels: {app: bad}}
  template: {metadata: {labels: {app: bad}}, spec: {containers: []}}
`,
			want:      []string{`Deployment/NS/bad: dry-run failed: Deployment.apps "bad" is invalid`, "spec.template.spec.containers: Required value"},
			untouched: true,
		},
		{
			name:      "object given twice",
			manifests: bystander + bystander,
			want:      []string{"ConfigMap/NS/bystander: the object is given twice"},
			untouched: true,
		},
		{
			name:      "object without name",
			manifests: bystander + "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: NS}\n",
			want:      []string{"object 1 (ConfigMap/NS/): apiVersion, kind and metadata.name are required"},
			untouched: true,
		},
		{
			name:      "ignore rule with a bad regular expression",
			manifests: bystander,
			opts: func(o *ApplyOptions) {
				o.Ignore = []IgnoreRule{{Paths: []string{"/spec"}, Target: &apimeta.Selector{Kind: "Deploy("}}}
			},
			want:      []string{`spec.ignore[0].target.kind: invalid regular expression "Deploy("`},
			untouched: true,
		},
		{
			name:      "ignore rule with a bad path",
			manifests: bystander,
			opts: func(o *ApplyOptions) {
				o.Ignore = []IgnoreRule{{Paths: []string{"/ok", "spec/replicas"}}}
			},
			want:      []string{`spec.ignore[0].paths[1]: "spec/replicas" is not a JSON pointer`},
			untouched: true,
		},
		{
			name:      "no owner labels",
			manifests: bystander,
			opts:      func(o *ApplyOptions) { o.OwnerLabels = nil },
			want:      []string{"owner labels are required"},
			untouched: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			o := opts("ks", ns)
			if tc.opts != nil {
				tc.opts(&o)
			}
			cs, err := newManager(t).ApplyAll(context.Background(), objects(t, ns, tc.manifests), o)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "NS", ns))
			}
			wantErr(t, err, want...)
			t.Logf("error: %v", err)
			if tc.untouched {
				if len(cs.Entries) > 0 {
					t.Errorf("change set %v, want nothing applied", cs.Entries)
				}
				if get(t, configMaps, ns, "bystander") != nil {
					t.Error("the valid object of a refused set was applied")
				}
			}
		})
	}
}

func TestForbiddenThroughImpersonation(t *testing.T) {
	ns := env.Namespace(t)
	other := env.Namespace(t)
	ctx := context.Background()
	sa := objects(t, ns, `
apiVersion: v1
kind: ServiceAccount
metadata: {name: tenant, namespace: NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant, namespace: NS}
rules: [{apiGroups: [""], resources: [configmaps], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant, namespace: NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}
subjects: [{kind: ServiceAccount, name: tenant, namespace: NS}]
`)
	mustApply(t, newManager(t), sa, opts("rbac", ns))

	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":tenant"}
	tenant, err := NewForConfig(cfg, flux)
	if err != nil {
		t.Fatal(err)
	}
	inside := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: NS}\n"
	cs := mustApply(t, tenant, objects(t, ns, inside), opts("tenant", ns))
	wantActions(t, cs, ns, map[string]Action{"ConfigMap/NS/cm": Created})

	_, err = tenant.ApplyAll(ctx, objects(t, other, inside), opts("tenant", ns))
	wantErr(t, err, "ConfigMap/"+other+"/cm: get failed:", `User "system:serviceaccount:`+ns+`:tenant" cannot get resource "configmaps"`)
	if !apierrors.IsForbidden(err) {
		t.Errorf("apierrors.IsForbidden is false for %v", err)
	}
	if _, err := env.Kube.CoreV1().ConfigMaps(other).Get(ctx, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap created outside the tenant's namespace: %v", err)
	}
}
