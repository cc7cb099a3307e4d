package kinds

import "testing"

// TestManagedBy checks the label pairs flux trace and the UI's lookup
// read: Helm's first, an incomplete pair is no owner.
func TestManagedBy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"kustomization", map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}, "Kustomization flux-system/apps"},
		{"helm first", map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
			"helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "apps"}, "HelmRelease apps/podinfo"},
		{"name without namespace", map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps"}, ""},
		{"none", nil, ""},
	} {
		k, key, ok := ManagedBy(tc.labels)
		got := ""
		if ok {
			got = k.Kind + " " + key.String()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
