package apply

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	apimeta "github.com/driftless/driftless/api/meta"
)

func TestParsePointer(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{"/spec/replicas", []string{"spec", "replicas"}, ""},
		{"/metadata/annotations/example.com~1note", []string{"metadata", "annotations", "example.com/note"}, ""},
		{"/data/a~0b", []string{"data", "a~b"}, ""},
		{"/spec/template/spec/containers/0/image", []string{"spec", "template", "spec", "containers", "0", "image"}, ""},
		{"spec/replicas", nil, "must start with '/'"},
		{"", nil, "must start with '/'"},
		{"/", nil, "whole object"},
		{"/data/a~2b", nil, "'~' must be followed by 0 or 1"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parsePointer(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parsePointer = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func sample() map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": "web", "annotations": map[string]any{"example.com/note": "x"}},
		"spec": map[string]any{
			"replicas":   int64(2),
			"containers": []any{map[string]any{"name": "a", "image": "a:1"}, map[string]any{"name": "b", "image": "b:1"}},
		},
	}
}

func TestPathEdits(t *testing.T) {
	t.Run("get", func(t *testing.T) {
		for path, want := range map[string]any{
			"/spec/replicas":                          int64(2),
			"/spec/containers/1/image":                "b:1",
			"/metadata/annotations/example.com~1note": "x",
			"/spec/containers/2/image":                nil,
			"/spec/replicas/x":                        nil,
			"/spec/missing":                           nil,
			"/spec/containers/x":                      nil,
		} {
			tokens, _ := parsePointer(path)
			got, ok := getPath(sample(), tokens)
			if ok != (want != nil) || got != want && want != nil {
				t.Errorf("getPath(%s) = %v, %v; want %v", path, got, ok, want)
			}
		}
	})
	t.Run("remove", func(t *testing.T) {
		cases := map[string]func(map[string]any){
			"/spec/replicas":     func(o map[string]any) { delete(o["spec"].(map[string]any), "replicas") },
			"/spec/containers/0": func(o map[string]any) { s := o["spec"].(map[string]any); s["containers"] = s["containers"].([]any)[1:] },
			"/spec/containers/1/image": func(o map[string]any) {
				delete(o["spec"].(map[string]any)["containers"].([]any)[1].(map[string]any), "image")
			},
			"/spec/missing/deeper": func(map[string]any) {},
			"/spec/containers/7":   func(map[string]any) {},
		}
		for path, edit := range cases {
			tokens, _ := parsePointer(path)
			got, want := sample(), sample()
			removePath(got, tokens)
			edit(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("removePath(%s) = %v, want %v", path, got, want)
			}
		}
	})
	t.Run("set", func(t *testing.T) {
		got := sample()
		for path, v := range map[string]any{"/spec/replicas": int64(5), "/spec/strategy/type": "Recreate", "/spec/containers/0/image": "a:2"} {
			tokens, _ := parsePointer(path)
			if !setPath(got, tokens, v) {
				t.Errorf("setPath(%s) failed", path)
			}
			if back, _ := getPath(got, tokens); back != v {
				t.Errorf("after setPath(%s): %v", path, back)
			}
		}
		if tokens, _ := parsePointer("/spec/containers/5/image"); setPath(got, tokens, "x") {
			t.Error("setPath into a missing list item succeeded")
		}
	})
}

func TestIgnoreRuleTargets(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web-1", "namespace": "apps",
			"labels": map[string]any{"tier": "front"}, "annotations": map[string]any{"scaling": "hpa"}},
	}}
	cases := []struct {
		name   string
		target *apimeta.Selector
		match  bool
	}{
		{"no target", nil, true},
		{"kind", &apimeta.Selector{Kind: "Deployment"}, true},
		{"kind regex", &apimeta.Selector{Kind: "Deploy.*|StatefulSet"}, true},
		{"regex matches in full", &apimeta.Selector{Kind: "Deploy"}, false},
		{"group and version", &apimeta.Selector{Group: "apps", Version: "v1"}, true},
		{"other group", &apimeta.Selector{Group: "batch"}, false},
		{"name regex", &apimeta.Selector{Name: "web-[0-9]+"}, true},
		{"namespace", &apimeta.Selector{Namespace: "other"}, false},
		{"label selector", &apimeta.Selector{LabelSelector: "tier in (front,back)"}, true},
		{"label selector no match", &apimeta.Selector{LabelSelector: "tier=back"}, false},
		{"annotation selector", &apimeta.Selector{AnnotationSelector: "scaling=hpa"}, true},
		{"all must match", &apimeta.Selector{Kind: "Deployment", AnnotationSelector: "scaling=keda"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := compileIgnore([]IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: tc.target}})
			if err != nil {
				t.Fatal(err)
			}
			paths := ignoredPaths(rules, obj)
			if (len(paths) == 1) != tc.match {
				t.Errorf("paths %v, want match %v", paths, tc.match)
			}
		})
	}
}

func TestBadIgnoreRules(t *testing.T) {
	cases := []struct {
		rule IgnoreRule
		want string
	}{
		{IgnoreRule{}, "spec.ignore[0].paths: at least one path is required"},
		{IgnoreRule{Paths: []string{"replicas"}}, `spec.ignore[0].paths[0]: "replicas" is not a JSON pointer`},
		{IgnoreRule{Paths: []string{"/a"}, Target: &apimeta.Selector{Name: "("}}, `spec.ignore[0].target.name: invalid regular expression "("`},
		{IgnoreRule{Paths: []string{"/a"}, Target: &apimeta.Selector{LabelSelector: "a in"}}, "spec.ignore[0].target.labelSelector:"},
		{IgnoreRule{Paths: []string{"/a"}, Target: &apimeta.Selector{AnnotationSelector: "=x"}}, "spec.ignore[0].target.annotationSelector:"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			_, err := compileIgnore([]IgnoreRule{tc.rule})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}
