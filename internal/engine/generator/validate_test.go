package generator

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBadSpecIsValidationFailed(t *testing.T) {
	tree := map[string]string{
		"a.yaml":      "a",
		"escape.yaml": "->../../../../etc/hostname",
		"out/":        "",
	}
	tests := []struct {
		name     string
		spec     Spec
		wantPath string
		wantMsg  string
	}{
		{"from names an unknown alias", one(Copy{From: "@nope/a.yaml", To: "@artifact/"}), "@nope/a.yaml", "unknown source alias @nope"},
		{"from without alias", one(Copy{From: "a.yaml", To: "@artifact/"}), "a.yaml", "must start with @alias/"},
		{"to outside @artifact", one(Copy{From: "@repo/a.yaml", To: "@repo/b.yaml"}), "@repo/b.yaml", "to must start with @artifact/"},
		{"from escapes with ..", one(Copy{From: "@repo/../x", To: "@artifact/"}), "@repo/../x", "escapes its root"},
		{"to escapes with ..", one(Copy{From: "@repo/a.yaml", To: "@artifact/x/../../a.yaml"}), "@artifact/x/../../a.yaml", "escapes its root"},
		{"copied link escapes the source", one(Copy{From: "@repo/escape.yaml", To: "@artifact/"}), "@repo/escape.yaml", "leaves the source through a link"},
		{"globbed link escapes the source", one(Copy{From: "@repo/*.yaml", To: "@artifact/"}), "@repo/escape.yaml", "leaves the source through a link"},
		{"revision names an unknown alias", Spec{Outputs: []Output{{Name: "out", Revision: "@nope", Copy: []Copy{{From: "@repo/a.yaml", To: "@artifact/"}}}}}, "@nope", "revision must name a source"},
		{"originRevision names an unknown alias", Spec{Outputs: []Output{{Name: "out", OriginRevision: "repo", Copy: []Copy{{From: "@repo/a.yaml", To: "@artifact/"}}}}}, "repo", "originRevision must name a source"},
		{"unknown strategy", one(Copy{From: "@repo/a.yaml", To: "@artifact/", Strategy: "Append"}), "", "unknown strategy"},
		{"bad exclude glob", one(Copy{From: "@repo/a.yaml", To: "@artifact/", Exclude: []string{"[a"}}), "[a", "not a valid glob"},
		{"duplicate artifact names", Spec{Outputs: []Output{{Name: "out", Copy: []Copy{{From: "@repo/a.yaml", To: "@artifact/"}}}, {Name: "out", Copy: []Copy{{From: "@repo/a.yaml", To: "@artifact/"}}}}}, "", "duplicate artifact name"},
		{"placeholder without pathPattern", Spec{Outputs: []Output{{Name: "out-{{ .app }}", Copy: []Copy{{From: "@repo/a.yaml", To: "@artifact/"}}}}}, "", "no pathPattern"},
		{"invalid name", Spec{Outputs: []Output{{Name: "Out_1", Copy: []Copy{{From: "@repo/a.yaml", To: "@artifact/"}}}}}, "", "not a valid object name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, map[string]map[string]string{"repo": tree}, tt.spec)
			assertError(t, err, ErrValidationFailed, tt.wantPath, tt.wantMsg)
		})
	}
}

func TestDuplicateAlias(t *testing.T) {
	dir := t.TempDir()
	sources := []Source{{Alias: "repo", Dir: dir}, {Alias: "repo", Dir: dir}}
	_, err := Generate(t.Context(), sources, one(Copy{From: "@repo/", To: "@artifact/"}), t.TempDir())
	assertError(t, err, ErrValidationFailed, "@repo", "duplicate source alias")
}

func TestTarballEscapingIsRefusedAndNothingLeavesTmp(t *testing.T) {
	base := t.TempDir()
	evil := tarball(t, map[string]string{"../../../pwned.yaml": "x"})
	res, tmp, err := run(t, map[string]map[string]string{"repo": {"evil.tgz": evil}}, one(Copy{From: "@repo/evil.tgz", To: "@artifact/", Strategy: StrategyExtract}))
	assertError(t, err, ErrValidationFailed, "@repo/evil.tgz", "outside its root")
	if res != nil {
		t.Errorf("results = %v on error", res)
	}
	for _, p := range []string{filepath.Join(filepath.Dir(tmp), "pwned.yaml"), filepath.Join(tmp, "pwned.yaml"), filepath.Join(base, "pwned.yaml")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}
