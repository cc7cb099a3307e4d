package ignore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files (path -> content) under a new temporary directory;
// a path ending in "/" is created as an empty directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func split(p string) []string { return strings.Split(strings.TrimSuffix(p, "/"), "/") }

type check struct {
	path     string // a trailing "/" marks a directory
	excluded bool
}

func assertChecks(t *testing.T, m Matcher, checks []check) {
	t.Helper()
	for _, c := range checks {
		isDir := strings.HasSuffix(c.path, "/")
		if got := m.Match(split(c.path), isDir); got != c.excluded {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", c.path, isDir, got, c.excluded)
		}
	}
}

func ptr(s string) *string { return &s }

func TestDefaultExclusions(t *testing.T) {
	root := writeTree(t, map[string]string{"README.md": "x"})
	m, err := Load(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertChecks(t, m, []check{
		// version control
		{".git/", true},
		{".git/config", true},
		{".git/objects/ab/cdef", true},
		{"sub/.git/", true},
		{"sub/.git", false}, // a submodule's gitlink file is not a directory
		{".gitignore", true},
		{"sub/.gitignore", true},
		{".gitmodules", true},
		{".gitattributes", true},
		// extensions
		{"a.jpg", true},
		{"a.jpeg", true},
		{"docs/a.gif", true},
		{"a.png", true},
		{"a.wmv", true},
		{"a.flv", true},
		{"release.tar.gz", true},
		{"deep/er/bundle.zip", true},
		{"a.tar", false},
		{"a.gz", false},
		{"png", false},
		// CI
		{".github/", true},
		{".github/workflows/ci.yaml", true},
		{".github", false}, // a file named .github is not the directory
		{".circleci/config.yml", true},
		{".travis.yml", true},
		{".gitlab-ci.yml", true},
		{"appveyor.yml", true},
		{".drone.yml", true},
		{"cloudbuild.yaml", true},
		{"codeship-services.yml", true},
		{"codeship-steps.yml", true},
		{"codeship-other.yml", false},
		// tools
		{".goreleaser.yml", true},
		{"sub/.goreleaser.yml", true},
		{".sops.yaml", true},
		{"clusters/prod/.sops.yaml", true},
		{".flux.yaml", true},
		// kept
		{"README.md", false},
		{"deploy/", false},
		{"deploy/app.yaml", false},
		{".sourceignore", false},
		{"sops.yaml", false},
	})
}

func TestPatternLists(t *testing.T) {
	if got := strings.Join(VCSPatterns(), ","); got != ".git/,.gitignore,.gitmodules,.gitattributes" {
		t.Errorf("VCSPatterns() = %s", got)
	}
	if got := len(DefaultPatterns()); got != 20 {
		t.Errorf("DefaultPatterns() has %d patterns, want 20", got)
	}
	// The lists are fresh copies: changing one does not change the rules.
	VCSPatterns()[0] = "nothing"
	if VCSPatterns()[0] != ".git/" {
		t.Error("VCSPatterns() returned shared state")
	}
}

func TestSourceIgnoreFiles(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		checks []check
	}{
		{
			name: "root file",
			files: map[string]string{
				".sourceignore": "# comment\n\n*.txt\n/only-root.yaml\n",
			},
			checks: []check{
				{"a.txt", true},
				{"sub/b.txt", true},
				{"only-root.yaml", true},
				{"sub/only-root.yaml", false},
				{"a.yaml", false},
			},
		},
		{
			name: "nested files are relative to their directory",
			files: map[string]string{
				".sourceignore":            "*.txt\n",
				"sub/.sourceignore":        "!keep.txt\n/local.yaml\n",
				"sub/deeper/.sourceignore": "secret/\n",
			},
			checks: []check{
				{"a.txt", true},
				{"keep.txt", true},
				{"sub/keep.txt", false},
				{"sub/deeper/keep.txt", false},
				{"sub/other.txt", true},
				{"sub/local.yaml", true},
				{"local.yaml", false},
				{"sub/deeper/local.yaml", false},
				{"sub/deeper/secret/", true},
				{"sub/deeper/secret/key", true},
				{"secret/key", false},
				{"other/keep.txt", true},
			},
		},
		{
			name: "a pattern replaces the default exclusions but not the VCS ones",
			files: map[string]string{
				".sourceignore": "*.md\n",
			},
			checks: []check{
				{"README.md", true},
				{"logo.png", false},
				{".github/workflows/ci.yaml", false},
				{".sops.yaml", false},
				{".git/config", true},
				{".gitignore", true},
			},
		},
		{
			name: "a comment-only file keeps the defaults",
			files: map[string]string{
				".sourceignore": "# nothing\n   \n",
			},
			checks: []check{
				{"logo.png", true},
				{"README.md", false},
			},
		},
		{
			name: "negation re-includes a VCS file",
			files: map[string]string{
				".sourceignore": "!.gitignore\n",
			},
			checks: []check{
				{".gitignore", false},
				{"sub/.gitignore", false},
				{".gitmodules", true},
			},
		},
		{
			name: "later negation re-includes, later exclusion wins again",
			files: map[string]string{
				".sourceignore": "*.yaml\n!important.yaml\nimportant.yaml\n!deploy/*.yaml\n",
			},
			checks: []check{
				{"a.yaml", true},
				{"important.yaml", true},
				{"deploy/a.yaml", false},
				{"deploy/sub/a.yaml", true},
			},
		},
		{
			name: "directory rules",
			files: map[string]string{
				".sourceignore": "build/\n/vendor/\ndocs/**/*.md\n",
			},
			checks: []check{
				{"build/", true},
				{"build/out.bin", true},
				{"src/build/", true},
				{"src/build/x", true},
				{"build", false}, // a file named build
				{"vendor/", true},
				{"vendor/mod/x.go", true},
				{"src/vendor/", false},
				{"docs/a.md", true},
				{"docs/x/y/a.md", true},
				{"docs/a.txt", false},
			},
		},
		{
			name: "CRLF line endings and trailing spaces",
			files: map[string]string{
				".sourceignore": "*.txt  \r\nbin/\r\n",
			},
			checks: []check{
				{"a.txt", true},
				{"bin/x", true},
				{"a.md", false},
			},
		},
		{
			name: "ignore files inside .git are not read",
			files: map[string]string{
				".git/.sourceignore": "*.yaml\n",
			},
			checks: []check{
				{"a.yaml", false},
				{"logo.png", true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(writeTree(t, tt.files), nil)
			if err != nil {
				t.Fatal(err)
			}
			assertChecks(t, m, tt.checks)
		})
	}
}

func TestSpecIgnore(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		spec   *string
		checks []check
	}{
		{
			name: "spec replaces the defaults",
			spec: ptr("/*\n!/deploy\n/deploy/**/*.md\n/deploy/**/*.txt\n"),
			checks: []check{
				{"README.md", true},
				{"src/", true},
				{"src/main.go", true},
				{"deploy/", false},
				{"deploy/app.yaml", false},
				{"deploy/logo.png", false},
				{"deploy/x/notes.md", true},
				{"deploy/notes.txt", true},
				{".git/config", true},
			},
		},
		{
			name:  "spec overrules .sourceignore",
			files: map[string]string{".sourceignore": "deploy/\n*.yaml\n"},
			spec:  ptr("!deploy/\n!*.yaml\n"),
			checks: []check{
				{"deploy/", false},
				{"deploy/app.yaml", false},
				{"app.yaml", false},
			},
		},
		{
			name:  "spec and .sourceignore combine",
			files: map[string]string{"sub/.sourceignore": "*.json\n"},
			spec:  ptr("*.md\n"),
			checks: []check{
				{"README.md", true},
				{"sub/a.json", true},
				{"a.json", false},
				{"logo.png", false},
			},
		},
		{
			name: "empty spec keeps the defaults",
			spec: ptr(""),
			checks: []check{
				{"logo.png", true},
				{"README.md", false},
			},
		},
		{
			name: "comment-only spec keeps the defaults",
			spec: ptr("# only a comment\n"),
			checks: []check{
				{"logo.png", true},
			},
		},
		{
			name: "spec can re-include .git",
			spec: ptr("!.git/\n"),
			checks: []check{
				{".git/", false},
				{".git/HEAD", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(writeTree(t, tt.files), tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			assertChecks(t, m, tt.checks)
		})
	}
}

func TestFromSpec(t *testing.T) {
	m, err := FromSpec(ptr("*.md\n"))
	if err != nil {
		t.Fatal(err)
	}
	assertChecks(t, m, []check{{"a.md", true}, {"a.png", false}, {".git/x", true}})
	m, err = FromSpec(nil)
	if err != nil {
		t.Fatal(err)
	}
	assertChecks(t, m, []check{{"a.md", false}, {"a.png", true}})
	if _, err := FromSpec(ptr("a\x00b\n")); err == nil || !strings.Contains(err.Error(), "spec.ignore: line 1 contains a NUL byte") {
		t.Errorf("FromSpec with NUL: err = %v", err)
	}
}

func TestSkipDir(t *testing.T) {
	tests := []struct {
		name string
		spec string
		dir  string
		want bool
	}{
		{"excluded directory without negations", "build/\n", "build", true},
		{"kept directory", "build/\n", "src", false},
		{"excluded directory with a negation", "build/\n!build/keep\n", "build", false},
		{"VCS directory by default", "", ".git", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(t.TempDir(), ptr(tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.SkipDir(split(tt.dir)); got != tt.want {
				t.Errorf("SkipDir(%q) = %v, want %v", tt.dir, got, tt.want)
			}
		})
	}
}
