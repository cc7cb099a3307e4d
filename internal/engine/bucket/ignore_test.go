package bucket

import (
	"slices"
	"testing"
)

// kept returns the keys that excluded lets through.
func kept(t *testing.T, sourceIgnore, specIgnore string, keys []string) []string {
	t.Helper()
	rules, err := buildRules(sourceIgnore, specIgnore, "s3.example.com", "b")
	if err != nil {
		t.Fatalf("buildRules: %v", err)
	}
	var out []string
	for _, k := range keys {
		if !excluded(k, rules) {
			out = append(out, k)
		}
	}
	return out
}

var listed = []string{
	".sourceignore", "apps/", "apps/app.yaml", "apps/logo.png", "docs/readme.md",
	"docs/sub/.sourceignore", ".git/config", ".github/workflows/ci.yaml", "release.zip", "tmp/x.yaml",
}

func TestIgnoreDefaults(t *testing.T) {
	got := kept(t, "", "", listed)
	want := []string{"apps/app.yaml", "docs/readme.md", "docs/sub/.sourceignore", "tmp/x.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}

func TestIgnoreSourceIgnoreReplacesDefaults(t *testing.T) {
	// A pattern in .sourceignore replaces the default exclusions (the
	// images come back) but not the version-control ones.
	got := kept(t, "# comment\ntmp/", "", listed)
	want := []string{"apps/app.yaml", "apps/logo.png", "docs/readme.md", "docs/sub/.sourceignore", ".github/workflows/ci.yaml", "release.zip"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}

func TestIgnoreSpecOverrulesSourceIgnore(t *testing.T) {
	// spec.ignore comes last: it can bring back what .sourceignore drops
	// and drop more. No trailing newline in .sourceignore on purpose.
	got := kept(t, "docs/", "!docs/readme.md\napps/\n*.zip", listed)
	want := []string{"docs/readme.md", ".github/workflows/ci.yaml", "tmp/x.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}

func TestIgnoreEverything(t *testing.T) {
	if got := kept(t, "/*\n", "", listed); len(got) != 0 {
		t.Errorf("kept %q, want nothing", got)
	}
}

func TestIgnoreNULRefused(t *testing.T) {
	if _, err := buildRules("a\x00", "", "e", "b"); err == nil {
		t.Error("a NUL in .sourceignore was accepted")
	}
}
