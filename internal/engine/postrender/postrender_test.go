package postrender

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
)

// rendered is what Helm hands a post-renderer: two templates' documents,
// each with Helm's filename annotation.
const rendered = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  labels:
    app: web
    team: chart
  annotations:
    postrenderer.helm.sh/postrender-filename: demo/templates/deployment.yaml
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
      - name: sidecar
        image: ghcr.io/example/proxy:v1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: apps
  annotations:
    postrenderer.helm.sh/postrender-filename: demo/templates/configmap.yaml
data:
  key: value
`

func release(spec v2.HelmReleaseSpec) *v2.HelmRelease {
	return &v2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "flux-system"},
		Spec:       spec,
	}
}

func kustomizer(patches []meta.Patch, images []meta.Image) v2.PostRenderer {
	return v2.PostRenderer{Kustomize: &v2.Kustomize{Patches: patches, Images: images}}
}

// run post-renders in with hr's post-renderer and parses the result.
func run(t *testing.T, hr *v2.HelmRelease, in string) map[string]*unstructured.Unstructured {
	t.Helper()
	out, err := runErr(t, hr, in)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

func runErr(t *testing.T, hr *v2.HelmRelease, in string) (map[string]*unstructured.Unstructured, error) {
	t.Helper()
	r, err := New(context.Background(), hr, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	out, err := r.Run(bytes.NewBufferString(in))
	if err != nil {
		return nil, err
	}
	objs, err := parseDocuments(out.Bytes())
	if err != nil {
		t.Fatalf("the output does not parse: %v\n%s", err, out)
	}
	byName := map[string]*unstructured.Unstructured{}
	for _, obj := range objs {
		byName[obj.GetKind()+"/"+obj.GetName()] = obj
	}
	return byName, nil
}

func field(t *testing.T, obj *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, found, err := unstructured.NestedFieldNoCopy(obj.Object, path...)
	if err != nil || !found {
		t.Fatalf("%s: no field %s (%v)", describe(obj), strings.Join(path, "."), err)
	}
	return v
}

func images(t *testing.T, obj *unstructured.Unstructured) []string {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	var out []string
	for _, c := range containers {
		out = append(out, c.(map[string]any)["image"].(string))
	}
	return out
}

func TestPatches(t *testing.T) {
	hr := release(v2.HelmReleaseSpec{PostRenderers: []v2.PostRenderer{kustomizer([]meta.Patch{
		{ // strategic merge, selected by kind and label
			Patch:  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: any\nspec:\n  replicas: 3\n",
			Target: &meta.Selector{Kind: "Deployment", LabelSelector: "app=web"},
		},
		{ // strategic merge naming its object, no target
			Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: apps\ndata:\n  added: by-smp\n",
		},
		{ // JSON6902, selected by group, version, kind and name
			Patch:  `[{"op": "add", "path": "/metadata/annotations/patched", "value": "json6902"}]`,
			Target: &meta.Selector{Group: "apps", Version: "v1", Kind: "Deployment", Name: "web"},
		},
		{ // a target that selects nothing changes nothing
			Patch:  `[{"op": "add", "path": "/metadata/annotations/none", "value": "x"}]`,
			Target: &meta.Selector{Kind: "Secret"},
		},
	}, nil)}})
	out := run(t, hr, rendered)
	deploy, cm := out["Deployment/web"], out["ConfigMap/web-config"]
	if got := field(t, deploy, "spec", "replicas"); got != int64(3) {
		t.Errorf("replicas = %v, want 3 from the strategic-merge patch", got)
	}
	if got := deploy.GetAnnotations()["patched"]; got != "json6902" {
		t.Errorf("Deployment annotation patched = %q, want json6902", got)
	}
	if got := field(t, cm, "data", "added"); got != "by-smp" {
		t.Errorf("ConfigMap data.added = %v, want by-smp", got)
	}
	if got := field(t, cm, "data", "key"); got != "value" {
		t.Errorf("ConfigMap data.key = %v, want the chart's value kept", got)
	}
	if _, ok := cm.GetAnnotations()["patched"]; ok {
		t.Error("the JSON6902 patch targeted the Deployment only, but the ConfigMap has its annotation")
	}
	for _, obj := range out {
		if _, ok := obj.GetAnnotations()["none"]; ok {
			t.Errorf("%s was patched by a patch whose target selects only Secrets", describe(obj))
		}
	}
}

func TestImages(t *testing.T) {
	tests := []struct {
		name  string
		image meta.Image
		want  []string
	}{
		{"newName", meta.Image{Name: "nginx", NewName: "registry.example/nginx"}, []string{"registry.example/nginx:1.25", "ghcr.io/example/proxy:v1"}},
		{"newTag", meta.Image{Name: "nginx", NewTag: "1.27"}, []string{"nginx:1.27", "ghcr.io/example/proxy:v1"}},
		{"digest", meta.Image{Name: "ghcr.io/example/proxy", Digest: "sha256:" + strings.Repeat("ab", 32)},
			[]string{"nginx:1.25", "ghcr.io/example/proxy@sha256:" + strings.Repeat("ab", 32)}},
		{"newName and newTag", meta.Image{Name: "nginx", NewName: "mirror/nginx", NewTag: "2"}, []string{"mirror/nginx:2", "ghcr.io/example/proxy:v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr := release(v2.HelmReleaseSpec{PostRenderers: []v2.PostRenderer{kustomizer(nil, []meta.Image{tt.image})}})
			got := images(t, run(t, hr, rendered)["Deployment/web"])
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("images = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPostRenderersInOrder(t *testing.T) {
	// The second post-renderer only applies after the first: its JSON
	// "test" op needs the first's replicas, and its target needs the
	// first's label.
	hr := release(v2.HelmReleaseSpec{PostRenderers: []v2.PostRenderer{
		kustomizer([]meta.Patch{{
			Patch:  `[{"op": "replace", "path": "/spec/replicas", "value": 2}, {"op": "add", "path": "/metadata/labels/stage", "value": "first"}]`,
			Target: &meta.Selector{Kind: "Deployment"},
		}}, []meta.Image{{Name: "nginx", NewTag: "first"}}),
		kustomizer([]meta.Patch{{
			Patch:  `[{"op": "test", "path": "/spec/replicas", "value": 2}, {"op": "replace", "path": "/spec/replicas", "value": 5}]`,
			Target: &meta.Selector{LabelSelector: "stage=first"},
		}}, []meta.Image{{Name: "nginx", NewTag: "second"}}),
	}})
	deploy := run(t, hr, rendered)["Deployment/web"]
	if got := field(t, deploy, "spec", "replicas"); got != int64(5) {
		t.Errorf("replicas = %v, want 5 (the second post-renderer after the first)", got)
	}
	if got := images(t, deploy)[0]; got != "nginx:second" {
		t.Errorf("image = %s, want nginx:second (the last post-renderer wins)", got)
	}

	// The other way round, the patch of what is now the first selects
	// nothing yet: order matters.
	hr.Spec.PostRenderers[0], hr.Spec.PostRenderers[1] = hr.Spec.PostRenderers[1], hr.Spec.PostRenderers[0]
	deploy = run(t, hr, rendered)["Deployment/web"]
	if got := field(t, deploy, "spec", "replicas"); got != int64(2) {
		t.Errorf("swapped: replicas = %v, want 2", got)
	}
	if got := images(t, deploy)[0]; got != "nginx:first" {
		t.Errorf("swapped: image = %s, want nginx:first", got)
	}
}

func TestCommonMetadataAndOriginLabels(t *testing.T) {
	hr := release(v2.HelmReleaseSpec{
		TargetNamespace: "apps",
		CommonMetadata: &meta.CommonMetadata{
			Labels: map[string]string{"team": "platform", "cost-center": "42",
				v2.NameLabel: "spoofed"},
			Annotations: map[string]string{"owner": "ops"},
		},
		PostRenderers: []v2.PostRenderer{kustomizer([]meta.Patch{{
			Patch:  `[{"op": "add", "path": "/metadata/labels/team", "value": "patched"}]`,
			Target: &meta.Selector{Kind: "Deployment"},
		}}, nil)},
	})
	out := run(t, hr, rendered)
	for _, obj := range out {
		labels := obj.GetLabels()
		// commonMetadata comes after the kustomize post-renderers and wins.
		if labels["team"] != "platform" || labels["cost-center"] != "42" {
			t.Errorf("%s labels = %v, want commonMetadata's team=platform and cost-center=42", describe(obj), labels)
		}
		if obj.GetAnnotations()["owner"] != "ops" {
			t.Errorf("%s annotations = %v, want owner=ops", describe(obj), obj.GetAnnotations())
		}
		// The origin labels come last: they name the HelmRelease, in its
		// own namespace (not the target namespace), whatever commonMetadata says.
		if labels[v2.NameLabel] != "demo" || labels[v2.NamespaceLabel] != "flux-system" {
			t.Errorf("%s origin labels = %v, want name demo and namespace flux-system", describe(obj), labels)
		}
		// Helm needs its filename annotation back.
		if obj.GetAnnotations()[FilenameAnnotation] == "" {
			t.Errorf("%s lost Helm's %s annotation", describe(obj), FilenameAnnotation)
		}
	}
	deploy := out["Deployment/web"]
	if got := field(t, deploy, "spec", "selector", "matchLabels"); len(got.(map[string]any)) != 1 {
		t.Errorf("selector = %v, want the chart's own (commonMetadata is metadata only)", got)
	}
	if got := field(t, deploy, "spec", "template", "metadata", "labels"); len(got.(map[string]any)) != 1 {
		t.Errorf("pod template labels = %v, want the chart's own", got)
	}
}

func TestOriginLabelsWithoutPostRenderers(t *testing.T) {
	out := run(t, release(v2.HelmReleaseSpec{}), rendered)
	if len(out) != 2 {
		t.Fatalf("got %d objects, want 2", len(out))
	}
	for _, obj := range out {
		if obj.GetLabels()[v2.NameLabel] != "demo" || obj.GetLabels()[v2.NamespaceLabel] != "flux-system" {
			t.Errorf("%s labels = %v, want the origin labels", describe(obj), obj.GetLabels())
		}
	}
	if got := field(t, out["ConfigMap/web-config"], "data", "key"); got != "value" {
		t.Errorf("data.key = %v, want value", got)
	}
}

func TestStrategy(t *testing.T) {
	tests := []struct {
		value         string
		helm3Defaults bool
		want          action.PostRenderStrategy
	}{
		{"", false, action.PostRenderStrategyCombined},
		{"", true, action.PostRenderStrategyNoHooks},
		{"combined", true, action.PostRenderStrategyCombined},
		{"nohooks", false, action.PostRenderStrategyNoHooks},
		{"separate", false, action.PostRenderStrategySeparate},
	}
	for _, tt := range tests {
		got, err := Strategy(tt.value, tt.helm3Defaults)
		if err != nil || action.PostRenderStrategy(got) != tt.want {
			t.Errorf("Strategy(%q, %v) = %q, %v; want %q", tt.value, tt.helm3Defaults, got, err, tt.want)
		}
		r, err := New(context.Background(), release(v2.HelmReleaseSpec{PostRenderStrategy: tt.value}), Options{Helm3Defaults: tt.helm3Defaults})
		if err != nil || action.PostRenderStrategy(r.Strategy()) != tt.want {
			t.Errorf("New with %q: strategy %v, %v; want %q", tt.value, r, err, tt.want)
		}
	}
	_, err := New(context.Background(), release(v2.HelmReleaseSpec{PostRenderStrategy: "Latest"}), Options{})
	if err == nil || !strings.Contains(err.Error(), `"Latest"`) {
		t.Errorf("New with postRenderStrategy Latest: %v, want an error naming the value", err)
	}
}

func TestPatchThatDoesNotApply(t *testing.T) {
	good := meta.Patch{Patch: `[{"op": "add", "path": "/metadata/labels/ok", "value": "yes"}]`, Target: &meta.Selector{Kind: "Deployment"}}
	tests := []struct {
		name       string
		bad        meta.Patch
		wantTarget string
		wantInMsg  []string
	}{
		{
			name:       "JSON6902 on a missing path",
			bad:        meta.Patch{Patch: `[{"op": "replace", "path": "/spec/missing/field", "value": 1}]`, Target: &meta.Selector{Kind: "Deployment", Name: "web"}},
			wantTarget: "kind=Deployment, name=web",
			wantInMsg:  []string{"post-renderer 1 (kustomize): patch 1 (kind=Deployment, name=web) does not apply", "/spec/missing/field"},
		},
		{
			name:       "strategic merge naming a missing object",
			bad:        meta.Patch{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n"},
			wantTarget: "no target, the patch names Deployment/api",
			wantInMsg:  []string{"post-renderer 1 (kustomize): patch 1 (no target, the patch names Deployment/api) does not apply"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr := release(v2.HelmReleaseSpec{PostRenderers: []v2.PostRenderer{
				kustomizer([]meta.Patch{good}, nil),
				kustomizer([]meta.Patch{good, tt.bad}, nil),
			}})
			_, err := runErr(t, hr, rendered)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Run: %v, want an *Error", err)
			}
			if pe.Renderer != 1 || pe.Patch != 1 || pe.Target != tt.wantTarget {
				t.Errorf("error names post-renderer %d, patch %d, target %q; want 1, 1, %q", pe.Renderer, pe.Patch, pe.Target, tt.wantTarget)
			}
			for _, want := range tt.wantInMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "/tmp/") || strings.Contains(err.Error(), t.TempDir()) {
				t.Errorf("error %q names the temporary directory", err)
			}
		})
	}
}

func TestInvalidDocuments(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "YAML that does not parse",
			in: rendered + "---\n# a comment only document\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  annotations:\n" +
				"    postrenderer.helm.sh/postrender-filename: demo/templates/broken.yaml\ndata: [unclosed\n",
			want: "document 3 (template demo/templates/broken.yaml)",
		},
		{
			name: "no kind",
			in:   "apiVersion: v1\nmetadata:\n  name: nokind\n  annotations:\n    postrenderer.helm.sh/postrender-filename: demo/templates/nokind.yaml\n",
			want: `document 1 (template demo/templates/nokind.yaml): object "nokind" has no apiVersion or no kind`,
		},
		{
			name: "not a mapping",
			in:   rendered + "---\n- a\n- list\n",
			want: "document 3:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runErr(t, release(v2.HelmReleaseSpec{}), tt.in)
			if !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run: %v, want ErrInvalidManifest naming %q", err, tt.want)
			}
		})
	}
}

func TestDigests(t *testing.T) {
	spec := func() *v2.HelmReleaseSpec {
		return &v2.HelmReleaseSpec{
			CommonMetadata: &meta.CommonMetadata{Labels: map[string]string{"a": "1", "b": "2", "c": "3"}},
			PostRenderers: []v2.PostRenderer{kustomizer([]meta.Patch{{
				Patch: "x", Target: &meta.Selector{Kind: "Deployment"},
			}}, []meta.Image{{Name: "nginx", NewTag: "1"}})},
		}
	}
	base := spec()
	d, p, c := Digest(base, false), PostRenderersDigest(base.PostRenderers), CommonMetadataDigest(base.CommonMetadata)
	for _, s := range []string{d, p, c} {
		if !strings.HasPrefix(s, "sha256:") || len(s) != len("sha256:")+64 {
			t.Errorf("digest %q is not sha256:<64 hex>", s)
		}
	}
	for range 20 { // maps iterate in random order: the digest must not
		again := spec()
		if Digest(again, false) != d || PostRenderersDigest(again.PostRenderers) != p || CommonMetadataDigest(again.CommonMetadata) != c {
			t.Fatal("the digests of equal specs differ")
		}
	}
	// Flux encodes with json.Encoder: no post-renderers is "null\n".
	null := sha256.Sum256([]byte("null\n"))
	if got, want := PostRenderersDigest(nil), "sha256:"+hex.EncodeToString(null[:]); got != want {
		t.Errorf("PostRenderersDigest(nil) = %s, want %s (the digest of \"null\\n\")", got, want)
	}

	changes := map[string]func(s *v2.HelmReleaseSpec){
		"image tag":         func(s *v2.HelmReleaseSpec) { s.PostRenderers[0].Kustomize.Images[0].NewTag = "2" },
		"patch":             func(s *v2.HelmReleaseSpec) { s.PostRenderers[0].Kustomize.Patches[0].Patch = "y" },
		"another renderer":  func(s *v2.HelmReleaseSpec) { s.PostRenderers = append(s.PostRenderers, kustomizer(nil, nil)) },
		"label":             func(s *v2.HelmReleaseSpec) { s.CommonMetadata.Labels["a"] = "9" },
		"strategy separate": func(s *v2.HelmReleaseSpec) { s.PostRenderStrategy = "separate" },
	}
	for name, change := range changes {
		s := spec()
		change(s)
		if Digest(s, false) == d {
			t.Errorf("Digest did not change with the %s", name)
		}
	}
	s := spec()
	s.PostRenderStrategy = "combined"
	if Digest(s, false) != d {
		t.Error("an explicit combined strategy changed Digest, but it is the default")
	}
	if Digest(base, true) == d {
		t.Error("Digest is the same for combined and for the Helm 3 default nohooks")
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	hr := release(v2.HelmReleaseSpec{PostRenderers: []v2.PostRenderer{kustomizer(nil, []meta.Image{{Name: "nginx", NewTag: "2"}})}})
	r, err := New(ctx, hr, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("the release was deleted")
	cancel(stop)
	if _, err := r.Run(bytes.NewBufferString(rendered)); !errors.Is(err, stop) || !strings.Contains(err.Error(), "post-renderer 0") {
		t.Errorf("Run after its context ended: %v, want the context's cause naming post-renderer 0", err)
	}
}
