package postrender

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// install renders chart through Helm's install action, client-only (no
// cluster, in-memory storage), with hr's post-renderer and strategy.
func install(t *testing.T, chart *helmtest.Chart, hr *v2.HelmRelease) (*releasev1.Release, error) {
	t.Helper()
	ch, err := chart.SDK()
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	pr, err := New(context.Background(), hr, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: common.DefaultCapabilities,
	}
	inst := action.NewInstall(cfg)
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName = "web"
	inst.Namespace = "apps"
	inst.PostRenderer = pr
	inst.PostRenderStrategy = action.PostRenderStrategy(pr.Strategy())
	rel, err := inst.RunWithContext(context.Background(), ch, nil)
	if err != nil {
		return nil, err
	}
	r, ok := rel.(*releasev1.Release)
	if !ok {
		t.Fatalf("install returned a %T", rel)
	}
	return r, nil
}

// parseOne parses a manifest of one object.
func parseOne(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	objs, err := parseDocuments([]byte(manifest))
	if err != nil || len(objs) != 1 {
		t.Fatalf("manifest holds %d objects (%v), want 1:\n%s", len(objs), err, manifest)
	}
	return objs[0]
}

// postRendered reports whether obj went through hr's post-renderer (see
// helmRelease), failing the test when it went through only in part.
func postRendered(t *testing.T, obj *unstructured.Unstructured) bool {
	t.Helper()
	patched := obj.Object["data"].(map[string]any)["patched"] == "yes"
	labelled := obj.GetLabels()["team"] == "platform"
	origin := obj.GetLabels()[v2.NameLabel] == "demo" && obj.GetLabels()[v2.NamespaceLabel] == "flux-system"
	if patched != labelled || labelled != origin {
		t.Errorf("%s: patched %v, commonMetadata %v, origin labels %v: want all or none", describe(obj), patched, labelled, origin)
	}
	if _, ok := obj.GetAnnotations()[FilenameAnnotation]; ok {
		t.Errorf("%s kept Helm's filename annotation: Helm did not take it back", describe(obj))
	}
	return patched
}

func helmRelease(strategy string) *v2.HelmRelease {
	hr := release(v2.HelmReleaseSpec{
		PostRenderStrategy: strategy,
		CommonMetadata:     &meta.CommonMetadata{Labels: map[string]string{"team": "platform"}},
		PostRenderers: []v2.PostRenderer{kustomizer([]meta.Patch{{
			Patch:  `[{"op": "add", "path": "/data/patched", "value": "yes"}]`,
			Target: &meta.Selector{Kind: "ConfigMap"},
		}}, nil)},
	})
	return hr
}

func TestHelmInstallStrategies(t *testing.T) {
	chart := helmtest.ConfigMapChart("demo", "1.0.0").Hook("smoke", "pre-install")
	tests := []struct {
		strategy  string
		hookToo   bool
		wantHooks bool
	}{
		{strategy: "", hookToo: true},
		{strategy: v2.PostRenderCombined, hookToo: true},
		{strategy: v2.PostRenderSeparate, hookToo: true},
		{strategy: v2.PostRenderNoHooks, hookToo: false},
	}
	for _, tt := range tests {
		t.Run("strategy="+tt.strategy, func(t *testing.T) {
			rel, err := install(t, chart, helmRelease(tt.strategy))
			if err != nil {
				t.Fatalf("install: %v", err)
			}
			cm := parseOne(t, rel.Manifest)
			if cm.GetName() != "web-demo" || !postRendered(t, cm) {
				t.Errorf("the release manifest was not post-rendered:\n%s", rel.Manifest)
			}
			if got := cm.Object["data"].(map[string]any)["message"]; got != "hello" {
				t.Errorf("data.message = %v, want the chart's hello", got)
			}
			if len(rel.Hooks) != 1 {
				t.Fatalf("release has %d hooks, want 1", len(rel.Hooks))
			}
			hook := rel.Hooks[0]
			if hook.Name != "web-smoke" || hook.Path != "demo/templates/hooks/smoke.yaml" {
				t.Errorf("hook %s from %s, want web-smoke from demo/templates/hooks/smoke.yaml", hook.Name, hook.Path)
			}
			if got := postRendered(t, parseOne(t, hook.Manifest)); got != tt.hookToo {
				t.Errorf("hook post-rendered = %v, want %v:\n%s", got, tt.hookToo, hook.Manifest)
			}
		})
	}
}

// A chart whose hook is the same object as one of its templates: combined
// gives kustomize both in one stream, which it refuses; separate and
// nohooks do not.
func TestHelmInstallHookAndTemplateAlike(t *testing.T) {
	chart := helmtest.ConfigMapChart("demo", "1.0.0").Hook("demo", "pre-install")
	_, err := install(t, chart, helmRelease(v2.PostRenderCombined))
	var pe *Error
	want := "post-renderer 0 (kustomize): ConfigMap/apps/web-demo (template demo/templates/configmap.yaml) and " +
		"ConfigMap/apps/web-demo (template demo/templates/hooks/demo.yaml) are the same object"
	if !errors.As(err, &pe) || pe.Patch != -1 || !strings.Contains(err.Error(), want) {
		t.Errorf("combined: %v, want the post-renderer to refuse the object twice: %q", err, want)
	}
	for _, strategy := range []string{v2.PostRenderSeparate, v2.PostRenderNoHooks} {
		rel, err := install(t, chart, helmRelease(strategy))
		if err != nil {
			t.Fatalf("%s: %v", strategy, err)
		}
		if !postRendered(t, parseOne(t, rel.Manifest)) || len(rel.Hooks) != 1 {
			t.Errorf("%s: manifest not post-rendered or %d hooks:\n%s", strategy, len(rel.Hooks), rel.Manifest)
		}
		if got := postRendered(t, parseOne(t, rel.Hooks[0].Manifest)); got != (strategy == v2.PostRenderSeparate) {
			t.Errorf("%s: hook post-rendered = %v", strategy, got)
		}
	}
}

// A failing patch fails the install with the post-renderer's error.
func TestHelmInstallPatchFails(t *testing.T) {
	hr := helmRelease("")
	hr.Spec.PostRenderers[0].Kustomize.Patches = append(hr.Spec.PostRenderers[0].Kustomize.Patches, meta.Patch{
		Patch:  `[{"op": "replace", "path": "/spec/replicas", "value": 2}]`,
		Target: &meta.Selector{Kind: "ConfigMap", Name: "web-demo"},
	})
	_, err := install(t, helmtest.ConfigMapChart("demo", "1.0.0"), hr)
	var pe *Error
	if !errors.As(err, &pe) || pe.Renderer != 0 || pe.Patch != 1 || pe.Target != "kind=ConfigMap, name=web-demo" {
		t.Fatalf("install: %v, want post-renderer 0, patch 1 on kind=ConfigMap, name=web-demo", err)
	}
}
