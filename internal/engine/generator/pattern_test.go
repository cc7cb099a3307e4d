package generator

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// patternSpec builds one output per app and env, with names from the
// lowercased captures and paths in their original case.
func patternSpec() Spec {
	return Spec{
		PathPattern: "@mono/apps/{app}/envs/{env}",
		Outputs: []Output{{
			Name:           "{{ .app }}-{{.env}}",
			OriginRevision: "@mono",
			Copy:           []Copy{{From: "@mono/apps/{{ .app }}/envs/{{ .env }}/**", To: "@artifact/{{ .app }}/"}},
		}},
	}
}

func TestPathPattern(t *testing.T) {
	tree := map[string]string{
		"apps/Podinfo/envs/Prod/a.yaml": "podinfo-prod",
		"apps/Podinfo/envs/dev/a.yaml":  "podinfo-dev",
		"apps/redis/envs/prod/r.yaml":   "redis-prod",
		"apps/redis/envs/notes.txt":     "a file is not a match",
		"apps/redis/other/x/r.yaml":     "not under envs",
	}
	res, _, err := run(t, map[string]map[string]string{"mono": tree}, patternSpec())
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		labels map[string]string
		tree   map[string]string
	}
	wants := map[string]want{
		"podinfo-dev":  {map[string]string{"app": "podinfo", "env": "dev"}, map[string]string{"Podinfo/a.yaml": "podinfo-dev"}},
		"podinfo-prod": {map[string]string{"app": "podinfo", "env": "prod"}, map[string]string{"Podinfo/a.yaml": "podinfo-prod"}},
		"redis-prod":   {map[string]string{"app": "redis", "env": "prod"}, map[string]string{"redis/r.yaml": "redis-prod"}},
	}
	if len(res) != len(wants) {
		t.Fatalf("got %d outputs, want %d: %v", len(res), len(wants), res)
	}
	for _, r := range res {
		w, ok := wants[r.Name]
		if !ok {
			t.Errorf("unexpected output %q", r.Name)
			continue
		}
		if !maps.Equal(r.Labels, w.labels) {
			t.Errorf("%s labels = %v, want %v", r.Name, r.Labels, w.labels)
		}
		if got := readTree(t, r.Dir); !maps.Equal(got, w.tree) {
			t.Errorf("%s tree = %v, want %v", r.Name, got, w.tree)
		}
		if r.Metadata[OriginRevisionKey] != "rev-mono" {
			t.Errorf("%s metadata = %v, want the source's revision", r.Name, r.Metadata)
		}
	}
}

func TestPathPatternNoMatchGivesNoOutputs(t *testing.T) {
	res, _, err := run(t, map[string]map[string]string{"mono": {"apps/README.md": "x"}}, patternSpec())
	if err != nil || len(res) != 0 {
		t.Fatalf("Generate = %v, %v; want no outputs and no error", res, err)
	}
}

func TestPathPatternBadCaptures(t *testing.T) {
	tests := []struct {
		name     string
		tree     map[string]string
		pattern  string
		wantPath string
		wantMsg  []string
	}{
		{"lowercase collision names both directories",
			map[string]string{"apps/Redis/envs/prod/": "", "apps/redis/envs/prod/": ""}, "",
			"@mono/apps/redis/envs/prod", []string{"@mono/apps/Redis/envs/prod", "@mono/apps/redis/envs/prod", "same captures"}},
		{"capture not a label value",
			map[string]string{"apps/my app/envs/prod/": ""}, "",
			"@mono/apps/my app/envs/prod", []string{`{app} = "my app"`, "not a valid label value"}},
		{"capture too long",
			map[string]string{"apps/" + strings.Repeat("a", 64) + "/envs/prod/": ""}, "",
			"@mono/apps/" + strings.Repeat("a", 64) + "/envs/prod", []string{"not a valid label value"}},
		{"unknown alias", nil, "@nope/apps/{app}", "@nope/apps/{app}", []string{"unknown source alias @nope"}},
		{"no capture", nil, "@mono/apps", "@mono/apps", []string{"no {capture}"}},
		{"capture used twice", nil, "@mono/{app}/{app}", "@mono/{app}/{app}", []string{"used twice"}},
		{"escaping pattern", nil, "@mono/../{app}", "@mono/../{app}", []string{"escapes its root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := patternSpec()
			if tt.pattern != "" {
				spec.PathPattern = tt.pattern
			}
			_, _, err := run(t, map[string]map[string]string{"mono": tt.tree}, spec)
			for _, m := range tt.wantMsg {
				assertError(t, err, ErrValidationFailed, tt.wantPath, m)
			}
		})
	}
}

func TestPathPatternNameCollision(t *testing.T) {
	spec := patternSpec()
	spec.Outputs[0].Name = "{{ .app }}"
	_, _, err := run(t, map[string]map[string]string{"mono": {"apps/a/envs/dev/": "", "apps/a/envs/prod/": ""}}, spec)
	assertError(t, err, ErrValidationFailed, "@mono/apps/a/envs/prod", `two outputs are named "a"`)
}

// TestPathPatternOutputsAreBounded: the tenant's directories cannot make
// more than MaxOutputs outputs; the refusal says how many matched.
func TestPathPatternOutputsAreBounded(t *testing.T) {
	tree := map[string]string{}
	for i := range MaxOutputs/2 + 1 {
		tree[fmt.Sprintf("apps/app%d/envs/dev/", i)] = ""
		tree[fmt.Sprintf("apps/app%d/envs/prod/", i)] = ""
	}
	_, _, err := run(t, map[string]map[string]string{"mono": tree}, patternSpec())
	assertError(t, err, ErrBuildFailed, "@mono/apps/{app}/envs/{env}", fmt.Sprintf("%d directories match the pathPattern", MaxOutputs+2))
}
