package generator

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	tree := map[string]string{
		"base/values.yaml": "replicas: 1\nimage:\n  repo: app\n  tag: v1\nports: [80, 443]\nkeep: true\n",
		"prod/values.yaml": "replicas: 3\nimage:\n  tag: v2\nports: [8080]\n",
		"empty.yaml":       "",
	}
	res, _, err := run(t, map[string]map[string]string{"repo": tree}, one(
		Copy{From: "@repo/base/values.yaml", To: "@artifact/values.yaml"},
		Copy{From: "@repo/prod/values.yaml", To: "@artifact/values.yaml", Strategy: StrategyMerge},
		Copy{From: "@repo/empty.yaml", To: "@artifact/values.yaml", Strategy: StrategyMerge},
		Copy{From: "@repo/prod/values.yaml", To: "@artifact/new/", Strategy: StrategyMerge},
	))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// Maps merge key by key, arrays are replaced, untouched keys stay.
		"values.yaml":     "image:\n  repo: app\n  tag: v2\nkeep: true\nports:\n  - 8080\nreplicas: 3\n",
		"new/values.yaml": tree["prod/values.yaml"],
	}
	if got := readTree(t, res[0].Dir); !maps.Equal(got, want) {
		t.Errorf("tree:\n got %q\nwant %q", got, want)
	}
}

func TestExtract(t *testing.T) {
	tree := map[string]string{
		"dist/app.tar.gz":      tarball(t, map[string]string{"deploy/app.yaml": "app", "kustomization.yaml": "k"}),
		"dist/lib.tgz":         tarball(t, map[string]string{"lib.yaml": "lib"}),
		"dist/notes.txt":       "not a tarball",
		"dist/nested/more.tgz": tarball(t, map[string]string{"more/m.yaml": "m"}),
	}
	res, _, err := run(t, map[string]map[string]string{"repo": tree}, one(
		Copy{From: "@repo/dist/**", To: "@artifact/", Strategy: StrategyExtract},
		Copy{From: "@repo/dist/lib.tgz", To: "@artifact/vendor", Strategy: StrategyExtract},
	))
	if err != nil {
		t.Fatal(err)
	}
	// Every tarball unpacks into the to directory with its own structure.
	want := map[string]string{"deploy/app.yaml": "app", "kustomization.yaml": "k", "lib.yaml": "lib", "more/m.yaml": "m", "vendor/lib.yaml": "lib"}
	if got := readTree(t, res[0].Dir); !maps.Equal(got, want) {
		t.Errorf("tree:\n got %v\nwant %v (notes.txt is skipped under a glob)", got, want)
	}
}

func TestBadContentIsBuildFailed(t *testing.T) {
	tree := map[string]string{
		"values.yaml": "a: 1\n",
		"multi.yaml":  "a: 1\n---\nb: 2\n",
		"list.yaml":   "- a\n",
		"bad.yaml":    "a: [\n",
		"notes.txt":   "text",
		"fake.tgz":    "not gzip",
	}
	tests := []struct {
		name     string
		copy     []Copy
		wantPath string
		wantMsg  string
	}{
		{"from matching nothing", []Copy{{From: "@repo/missing.yaml", To: "@artifact/"}}, "@repo/missing.yaml", "matches nothing"},
		{"path through a file", []Copy{{From: "@repo/values.yaml/x", To: "@artifact/"}}, "@repo/values.yaml/x", "matches nothing"},
		{"glob matching nothing", []Copy{{From: "@repo/*.json", To: "@artifact/"}}, "@repo/*.json", "matches nothing"},
		{"glob under a missing dir", []Copy{{From: "@repo/nope/**", To: "@artifact/"}}, "@repo/nope/**", "matches nothing"},
		{"merge into multi-document", []Copy{{From: "@repo/multi.yaml", To: "@artifact/v.yaml"}, {From: "@repo/values.yaml", To: "@artifact/v.yaml", Strategy: StrategyMerge}}, "@artifact/v.yaml", "not a single YAML mapping"},
		{"merge into non-YAML", []Copy{{From: "@repo/bad.yaml", To: "@artifact/v.yaml"}, {From: "@repo/values.yaml", To: "@artifact/v.yaml", Strategy: StrategyMerge}}, "@artifact/v.yaml", "not YAML"},
		{"merge into a list", []Copy{{From: "@repo/list.yaml", To: "@artifact/v.yaml"}, {From: "@repo/values.yaml", To: "@artifact/v.yaml", Strategy: StrategyMerge}}, "@artifact/v.yaml", "not a mapping"},
		{"merge of a multi-document source", []Copy{{From: "@repo/values.yaml", To: "@artifact/v.yaml"}, {From: "@repo/multi.yaml", To: "@artifact/v.yaml", Strategy: StrategyMerge}}, "@repo/multi.yaml", "2 YAML documents"},
		{"extract of a single non-tarball", []Copy{{From: "@repo/notes.txt", To: "@artifact/", Strategy: StrategyExtract}}, "@repo/notes.txt", "needs a .tar.gz or .tgz"},
		{"extract of a corrupt tarball", []Copy{{From: "@repo/fake.tgz", To: "@artifact/", Strategy: StrategyExtract}}, "@repo/fake.tgz", "not a gzip stream"},
		{"a file in the way of a directory", []Copy{{From: "@repo/values.yaml", To: "@artifact/d/x.yaml"}, {From: "@repo/notes.txt", To: "@artifact/d/x.yaml/"}}, "@artifact/d/x.yaml/notes.txt", "is a file in the way?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, map[string]map[string]string{"repo": tree}, one(tt.copy...))
			assertError(t, err, ErrBuildFailed, tt.wantPath, tt.wantMsg)
		})
	}
}

// assertError checks err's kind, that it names the artifact "out" (when
// not spec-wide), the path and the explanation.
func assertError(t *testing.T, err error, kind error, path, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error", err)
	}
	if !errors.Is(err, kind) || Reason(err) != kind.Error() {
		t.Errorf("error %q: kind %v, want %v", err, e.Kind, kind)
	}
	if e.Path != path {
		t.Errorf("error %q: path %q, want %q", err, e.Path, path)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
}
