package generator

import (
	"maps"
	"testing"
)

// repo is the source tree the copy tests read.
var repo = map[string]string{
	"README.md":                    "readme",
	"apps/base/app.yaml":           "app",
	"apps/base/kustomization.yaml": "k-base",
	"apps/prod/patch.yaml":         "patch",
	"apps/prod/kustomization.yaml": "k-prod",
	"apps/prod/test/t.yaml":        "test",
	"infra/controllers/a.yaml":     "a",
	"infra/configs/b.yml":          "b",
	"infra/.keep":                  "",
}

func TestCopySemantics(t *testing.T) {
	tests := []struct {
		name string
		copy []Copy
		want map[string]string
	}{
		{"file to file", []Copy{{From: "@repo/README.md", To: "@artifact/docs/intro.md"}},
			map[string]string{"docs/intro.md": "readme"}},
		{"file into dir", []Copy{{From: "@repo/README.md", To: "@artifact/docs/"}},
			map[string]string{"docs/README.md": "readme"}},
		{"file into artifact root", []Copy{{From: "@repo/apps/base/app.yaml", To: "@artifact/"}},
			map[string]string{"app.yaml": "app"}},
		{"glob into dir keeps names", []Copy{{From: "@repo/apps/base/*.yaml", To: "@artifact/base/"}},
			map[string]string{"base/app.yaml": "app", "base/kustomization.yaml": "k-base"}},
		{"double star keeps structure under the prefix", []Copy{{From: "@repo/apps/**/*.yaml", To: "@artifact/"}},
			map[string]string{"base/app.yaml": "app", "base/kustomization.yaml": "k-base", "prod/patch.yaml": "patch", "prod/kustomization.yaml": "k-prod", "prod/test/t.yaml": "test"}},
		{"dir/ copies the directory", []Copy{{From: "@repo/apps/", To: "@artifact/x/"}},
			map[string]string{"x/apps/base/app.yaml": "app", "x/apps/base/kustomization.yaml": "k-base", "x/apps/prod/patch.yaml": "patch", "x/apps/prod/kustomization.yaml": "k-prod", "x/apps/prod/test/t.yaml": "test"}},
		{"dir without slash copies the directory too", []Copy{{From: "@repo/infra", To: "@artifact/"}},
			map[string]string{"infra/controllers/a.yaml": "a", "infra/configs/b.yml": "b", "infra/.keep": ""}},
		{"dir/ to a new name renames it", []Copy{{From: "@repo/infra/", To: "@artifact/platform"}},
			map[string]string{"platform/controllers/a.yaml": "a", "platform/configs/b.yml": "b", "platform/.keep": ""}},
		{"dir/** copies the contents", []Copy{{From: "@repo/infra/**", To: "@artifact/"}},
			map[string]string{"controllers/a.yaml": "a", "configs/b.yml": "b", ".keep": ""}},
		{"single star matching a directory brings its subtree", []Copy{{From: "@repo/apps/*", To: "@artifact/"}},
			map[string]string{"base/app.yaml": "app", "base/kustomization.yaml": "k-base", "prod/patch.yaml": "patch", "prod/kustomization.yaml": "k-prod", "prod/test/t.yaml": "test"}},
		{"later copies overwrite earlier ones", []Copy{
			{From: "@repo/apps/base/**", To: "@artifact/"},
			{From: "@repo/apps/prod/kustomization.yaml", To: "@artifact/kustomization.yaml"},
		}, map[string]string{"app.yaml": "app", "kustomization.yaml": "k-prod"}},
		{"file onto an existing output dir goes inside", []Copy{
			{From: "@repo/apps/base/app.yaml", To: "@artifact/d/app.yaml"},
			{From: "@repo/README.md", To: "@artifact/d"},
		}, map[string]string{"d/app.yaml": "app", "d/README.md": "readme"}},
		{"exclude relative to the source root", []Copy{{From: "@repo/apps/**", To: "@artifact/", Exclude: []string{"apps/prod/test/**"}}},
			map[string]string{"base/app.yaml": "app", "base/kustomization.yaml": "k-base", "prod/patch.yaml": "patch", "prod/kustomization.yaml": "k-prod"}},
		{"exclude relative to the from prefix", []Copy{{From: "@repo/apps/**", To: "@artifact/", Exclude: []string{"prod/*.yaml"}}},
			map[string]string{"base/app.yaml": "app", "base/kustomization.yaml": "k-base", "prod/test/t.yaml": "test"}},
		{"separator-less exclude matches a name at any depth", []Copy{{From: "@repo/**", To: "@artifact/", Exclude: []string{"kustomization.yaml", "test", "*.md", ".keep", "infra"}}},
			map[string]string{"apps/base/app.yaml": "app", "apps/prod/patch.yaml": "patch"}},
		{"double-star exclude at any depth", []Copy{{From: "@repo/apps/**", To: "@artifact/", Exclude: []string{"**/test/**", "**/base/*.yaml"}}},
			map[string]string{"prod/patch.yaml": "patch", "prod/kustomization.yaml": "k-prod"}},
		{"exclude on a directory copy", []Copy{{From: "@repo/infra/", To: "@artifact/", Exclude: []string{"*.yml"}}},
			map[string]string{"infra/controllers/a.yaml": "a", "infra/.keep": ""}},
		{"whole source root", []Copy{{From: "@repo/", To: "@artifact/all/", Exclude: []string{"apps", "infra"}}},
			map[string]string{"all/README.md": "readme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := run(t, map[string]map[string]string{"repo": repo}, one(tt.copy...))
			if err != nil {
				t.Fatal(err)
			}
			if got := readTree(t, res[0].Dir); !maps.Equal(got, tt.want) {
				t.Errorf("tree:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestCopyFollowsLinksInsideTheSource(t *testing.T) {
	tree := map[string]string{"real/a.yaml": "a", "link.yaml": "->real/a.yaml", "dirlink": "->real"}
	res, _, err := run(t, map[string]map[string]string{"repo": tree}, one(Copy{From: "@repo/*", To: "@artifact/"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"real/a.yaml": "a", "link.yaml": "a"}
	if got := readTree(t, res[0].Dir); !maps.Equal(got, want) {
		t.Errorf("tree:\n got %v\nwant %v (a link to a file copies its content, a link to a directory is not followed)", got, want)
	}
}

func TestComposeTwoSources(t *testing.T) {
	trees := map[string]map[string]string{
		"git": {"deploy/app.yaml": "from-git"},
		"oci": {"manifests/app.yaml": "from-oci", "manifests/crd.yaml": "crd"},
	}
	res, _, err := run(t, trees, one(
		Copy{From: "@git/deploy/**", To: "@artifact/"},
		Copy{From: "@oci/manifests/*.yaml", To: "@artifact/"},
	))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app.yaml": "from-oci", "crd.yaml": "crd"}
	if got := readTree(t, res[0].Dir); !maps.Equal(got, want) {
		t.Errorf("tree:\n got %v\nwant %v", got, want)
	}
}
