package config_test

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// object parses a manifest and places it in ns.
func object(t *testing.T, ns, manifest string) (*unstructured.Unstructured, schema.GroupVersionResource) {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatalf("bad test manifest: %v", err)
	}
	obj := &unstructured.Unstructured{Object: m}
	obj.SetNamespace(ns)
	gvk := obj.GroupVersionKind()
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Kube.Discovery()))
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("map %s: %v", gvk, err)
	}
	return obj, mapping.Resource
}

func TestBadInputIsRejectedWithTheAPIServersMessage(t *testing.T) {
	cases := []struct {
		name     string
		manifest string
		want     []string
	}{{
		name: "unknown field",
		manifest: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: unknown-field}
spec: {interval: 1m, url: "https://example.com/repo", branch: main}`,
		want: []string{`unknown field "spec.branch"`},
	}, {
		name: "malformed interval",
		manifest: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: bad-interval}
spec: {interval: 1 minute, url: "https://example.com/repo"}`,
		want: []string{"spec.interval", "should match"},
	}, {
		name: "scp-like git url",
		manifest: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: scp-url}
spec: {interval: 1m, url: "git@github.com:org/repo"}`,
		want: []string{"spec.url", "should match"},
	}, {
		name: "out-of-enum deletionPolicy",
		manifest: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-enum}
spec: {interval: 5m, prune: true, deletionPolicy: Sometimes, sourceRef: {kind: GitRepository, name: repo}}`,
		want: []string{"spec.deletionPolicy", `Unsupported value: "Sometimes"`},
	}, {
		name: "missing required prune",
		manifest: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: no-prune}
spec: {interval: 5m, sourceRef: {kind: GitRepository, name: repo}}`,
		want: []string{"spec.prune", "Required value"},
	}, {
		name: "malformed Kustomization timeout",
		manifest: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-timeout}
spec: {interval: 5m, timeout: 5 minutes, prune: true, sourceRef: {kind: GitRepository, name: repo}}`,
		want: []string{"spec.timeout", "should match"},
	}, {
		name: "kubeConfig with neither reference",
		manifest: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: empty-kubeconfig}
spec: {interval: 5m, prune: true, kubeConfig: {}, sourceRef: {kind: GitRepository, name: repo}}`,
		want: []string{"exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"},
	}, {
		name: "HelmRelease with both chart and chartRef",
		manifest: `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: both-charts}
spec:
  interval: 10m
  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}
  chartRef: {kind: OCIRepository, name: podinfo}`,
		want: []string{"chart or chartRef"},
	}, {
		name: "unknown nested field in HelmRelease",
		manifest: `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: unknown-nested}
spec:
  interval: 10m
  chart: {spec: {chart: podinfo, versionn: "6.x", sourceRef: {kind: HelmRepository, name: podinfo}}}`,
		want: []string{`unknown field "spec.chart.spec.versionn"`},
	}, {
		name: "out-of-enum Alert severity",
		manifest: `
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: bad-severity}
spec: {providerRef: {name: slack}, eventSeverity: warning, eventSources: [{kind: Kustomization, name: "*"}]}`,
		want: []string{"spec.eventSeverity", `Unsupported value: "warning"`},
	}, {
		name: "out-of-enum Provider type",
		manifest: `
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata: {name: bad-type}
spec: {type: carrier-pigeon}`,
		want: []string{"spec.type", `Unsupported value: "carrier-pigeon"`},
	}, {
		name: "out-of-enum Receiver type",
		manifest: `
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: bad-receiver}
spec: {type: svn, resources: [{kind: GitRepository, name: repo}]}`,
		want: []string{"spec.type", `Unsupported value: "svn"`},
	}, {
		name: "legacy v1beta2 ImagePolicy is validated too",
		manifest: `
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {name: legacy-bad-order}
spec: {imageRepositoryRef: {name: app}, policy: {alphabetical: {order: up}}}`,
		want: []string{"spec.policy.alphabetical.order", `Unsupported value: "up"`},
	}, {
		name: "legacy v1beta2 OCIRepository url",
		manifest: `
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata: {name: legacy-bad-url}
spec: {interval: 5m, url: "https://ghcr.io/org/app"}`,
		want: []string{"spec.url", "should match"},
	}}

	ns := env.Namespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, res := object(t, ns, tc.manifest)
			_, err := env.Dynamic.Resource(res).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"})
			if err == nil {
				t.Fatalf("the API server accepted %s", obj.GetName())
			}
			if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
				t.Fatalf("want Invalid or BadRequest, got %v (%T)", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err.Error(), w)
				}
			}
		})
	}
}

func TestFluxDefaultsAreApplied(t *testing.T) {
	cases := []struct {
		manifest string
		path     []string
		want     any
	}{
		{`
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: defaults}
spec: {interval: 1m, url: "https://example.com/repo"}`, []string{"spec", "timeout"}, "60s"},
		{`
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: observed-generation}
spec: {interval: 1m, url: "https://example.com/repo"}`, []string{"status", "observedGeneration"}, int64(-1)},
		{`
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata: {name: defaults}
spec: {providerRef: {name: slack}, eventSources: [{kind: Kustomization, name: "*"}]}`, []string{"spec", "eventSeverity"}, "info"},
		{`
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: defaults}
spec: {type: generic, secretRef: {name: token}, resources: [{kind: GitRepository, name: repo}]}`, []string{"spec", "interval"}, "10m"},
		{`
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: defaults}
spec: {image: ghcr.io/org/app, interval: 1m}`, []string{"spec", "exclusionList"}, []any{`^.*\.sig$`}},
		{`
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: defaults}
spec: {chart: podinfo, interval: 1m, sourceRef: {kind: HelmRepository, name: podinfo}}`, []string{"spec", "version"}, "*"},
	}
	ns := env.Namespace(t)
	ctx := context.Background()
	for _, tc := range cases {
		obj, res := object(t, ns, tc.manifest)
		if _, err := env.Dynamic.Resource(res).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Fatalf("create %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		got, err := env.Dynamic.Resource(res).Namespace(ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, found, err := unstructured.NestedFieldCopy(got.Object, tc.path...)
		if err != nil || !found {
			t.Errorf("%s: %s not set (%v)", obj.GetKind(), strings.Join(tc.path, "."), err)
			continue
		}
		if !equalJSON(v, tc.want) {
			t.Errorf("%s: %s = %#v, want %#v", obj.GetKind(), strings.Join(tc.path, "."), v, tc.want)
		}
	}
}

// TestLegacyVersionReadsBackAsV1 writes through v1beta2 and reads through
// v1: the same object, stored once.
func TestLegacyVersionReadsBackAsV1(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	obj, res := object(t, ns, `
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata: {name: legacy}
spec:
  imageRepositoryRef: {name: app}
  policy: {semver: {range: ">=1.0.0 <2.0.0"}}`)
	if _, err := env.Dynamic.Resource(res).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
		t.Fatal(err)
	}
	v1, err := env.Dynamic.Resource(gvr(res.Group, "v1", res.Resource)).Namespace(ns).Get(ctx, "legacy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v1.GetAPIVersion() != "image.toolkit.fluxcd.io/v1" {
		t.Errorf("read back as %s", v1.GetAPIVersion())
	}
	r, _, _ := unstructured.NestedString(v1.Object, "spec", "policy", "semver", "range")
	if r != ">=1.0.0 <2.0.0" {
		t.Errorf("spec.policy.semver.range = %q after conversion", r)
	}
}

func equalJSON(a, b any) bool {
	ja, _ := yaml.Marshal(a)
	jb, _ := yaml.Marshal(b)
	return string(ja) == string(jb)
}
