package ignore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// FileName is the name of the ignore files read from a source tree.
const FileName = ".sourceignore"

// MaxFileSize bounds the size of one ignore file (or of spec.ignore).
const MaxFileSize = 1 << 20

// VCSPatterns returns the version-control patterns that are always excluded,
// with the lowest priority.
func VCSPatterns() []string {
	return []string{".git/", ".gitignore", ".gitmodules", ".gitattributes"}
}

// DefaultPatterns returns the default exclusions (file extensions, CI and
// tool configuration) that apply while no .sourceignore file or spec.ignore
// yields a pattern.
func DefaultPatterns() []string {
	return []string{
		"*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip",
		".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml",
		".drone.yml", "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml",
		"**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml",
	}
}

// Matcher reports whether a path is excluded. The path is the list of its
// components relative to the root of the tree ("deploy/app.yaml" is
// []string{"deploy", "app.yaml"}); isDir tells whether it is a directory.
type Matcher interface {
	Match(path []string, isDir bool) bool
}

// Rules is the Matcher built from a tree's ignore files and spec.ignore.
type Rules struct {
	matcher   gitignore.Matcher
	negations bool
}

// Match reports whether path is excluded.
func (r *Rules) Match(path []string, isDir bool) bool {
	return r.matcher.Match(path, isDir)
}

// SkipDir reports whether the directory at path and everything below it are
// excluded, so a walker need not descend into it. It is true only when the
// directory matches and no negation could bring back anything inside it.
func (r *Rules) SkipDir(path []string) bool {
	return !r.negations && r.matcher.Match(path, true)
}

// Load builds the rules for the tree at root: every .sourceignore file found
// under root, then specIgnore (nil when unset), with the default exclusions
// described in the package documentation.
func Load(root string, specIgnore *string) (*Rules, error) {
	source, err := readTree(root)
	if err != nil {
		return nil, err
	}
	if specIgnore != nil {
		ps, err := parse(strings.NewReader(*specIgnore), nil, "spec.ignore")
		if err != nil {
			return nil, err
		}
		source = append(source, ps...)
	}
	return newRules(source), nil
}

// FromSpec builds the rules from specIgnore alone, for sources whose content
// is not a checked-out tree (no .sourceignore files are read).
func FromSpec(specIgnore *string) (*Rules, error) {
	var source []rule
	if specIgnore != nil {
		ps, err := parse(strings.NewReader(*specIgnore), nil, "spec.ignore")
		if err != nil {
			return nil, err
		}
		source = ps
	}
	return newRules(source), nil
}

// rule is one parsed pattern and whether it negates.
type rule struct {
	pattern  gitignore.Pattern
	negation bool
}

func newRules(source []rule) *Rules {
	var ps []gitignore.Pattern
	for _, p := range VCSPatterns() {
		ps = append(ps, gitignore.ParsePattern(p, nil))
	}
	if len(source) == 0 {
		for _, p := range DefaultPatterns() {
			ps = append(ps, gitignore.ParsePattern(p, nil))
		}
	}
	r := &Rules{}
	for _, s := range source {
		ps = append(ps, s.pattern)
		r.negations = r.negations || s.negation
	}
	r.matcher = gitignore.NewMatcher(ps)
	return r
}

// readTree loads the .sourceignore files of the tree at root, a directory's
// own file before those of its subdirectories, subdirectories in lexical
// order. Symbolic links are never followed and .git directories are skipped.
func readTree(root string) ([]rule, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("loading ignore rules: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("loading ignore rules: %s is not a directory", root)
	}
	tree, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("loading ignore rules: %w", err)
	}
	defer tree.Close()

	var rules []rule
	err = fs.WalkDir(tree.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("loading ignore rules: walking %s: %w", filepath.Join(root, p), err)
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == ".git" && p != "." {
			return fs.SkipDir
		}
		var domain []string
		if p != "." {
			domain = strings.Split(p, "/")
		}
		ps, err := readFile(tree, p, domain)
		if err != nil {
			return err
		}
		rules = append(rules, ps...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rules, nil
}

// readFile reads the ignore file of directory dir (slash-separated, relative
// to the root), if there is one.
func readFile(tree *os.Root, dir string, domain []string) ([]rule, error) {
	name := FileName
	if dir != "." {
		name = dir + "/" + FileName
	}
	info, err := tree.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if info.IsDir() {
		return nil, nil
	}
	// Opening through the root follows a symbolic link only while it stays
	// inside the tree; O_NONBLOCK keeps a named pipe from blocking the open.
	f, err := tree.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()
	info, err = f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("reading %s: not a regular file", name)
	}
	return parse(f, domain, name)
}

// parse reads patterns in the .gitignore format; blank lines and lines
// starting with "#" are skipped.
func parse(r io.Reader, domain []string, source string) ([]rule, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", source, MaxFileSize)
	}
	var rules []rule
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if strings.ContainsRune(line, 0) {
			return nil, fmt.Errorf("reading %s: line %d contains a NUL byte", source, i+1)
		}
		rules = append(rules, rule{
			pattern:  gitignore.ParsePattern(line, domain),
			negation: strings.HasPrefix(line, "!"),
		})
	}
	return rules, nil
}
