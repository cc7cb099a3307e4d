package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// apiUpgrade is one apiVersion to rewrite: where it is and to what.
type apiUpgrade struct {
	line, column int // 1-based position of the value
	kind         string
	from, to     string // full apiVersions
}

// fileUpgrades are the upgrades of one file.
type fileUpgrades struct {
	path     string
	upgrades []apiUpgrade
}

// manifestMigrator rewrites the apiVersions of Flux kinds in manifests.
type manifestMigrator struct {
	root       string
	extensions []string
	latest     map[schema.GroupKind]string
}

// files lists the files to look at: root itself when it is a file (which
// must have one of the extensions), else every regular file below it with
// one of them; .git directories are skipped.
func (m *manifestMigrator) files(warn io.Writer) ([]string, error) {
	fi, err := os.Stat(m.root)
	if err != nil {
		return nil, fmt.Errorf("--path %s: %w", m.root, err)
	}
	if !fi.IsDir() {
		if !m.matches(m.root) {
			return nil, fmt.Errorf("--path %s does not end in one of the --extensions %s: add its extension with -e",
				m.root, strings.Join(m.extensions, ","))
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("--path %s is not a regular file", m.root)
		}
		return []string{m.root}, nil
	}
	var files []string
	err = filepath.WalkDir(m.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && path != m.root {
				return filepath.SkipDir
			}
			return nil
		}
		if !m.matches(path) {
			return nil
		}
		if !d.Type().IsRegular() {
			fmt.Fprintf(warn, "⚠️ skipping %s: not a regular file\n", path)
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading --path %s: %w", m.root, err)
	}
	return files, nil
}

func (m *manifestMigrator) matches(path string) bool {
	for _, ext := range m.extensions {
		if strings.HasSuffix(path, ext) {
			return true
		}
	}
	return false
}

// detect finds the upgrades of every file; a file that is not YAML fails
// the whole run, naming it.
func (m *manifestMigrator) detect(files []string) ([]fileUpgrades, error) {
	var out []fileUpgrades
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		ups, err := m.detectIn(data)
		if err != nil {
			return nil, fmt.Errorf("%s is not valid YAML: %w (fix it, or leave its extension out of --extensions)", path, err)
		}
		if len(ups) > 0 {
			out = append(out, fileUpgrades{path: path, upgrades: ups})
		}
	}
	return out, nil
}

// detectIn finds, in every document of a YAML stream, every mapping with an
// apiVersion and a kind of a Flux kind whose version is not the latest:
// the document's own and references inside it (a Kustomization's sourceRef).
func (m *manifestMigrator) detectIn(data []byte) ([]apiUpgrade, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var ups []apiUpgrade
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return ups, nil
		}
		if err != nil {
			return nil, err
		}
		m.walk(&doc, &ups)
	}
}

func (m *manifestMigrator) walk(n *yaml.Node, ups *[]apiUpgrade) {
	if n.Kind == yaml.MappingNode {
		var apiVersion, kind *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "apiVersion":
				apiVersion = n.Content[i+1]
			case "kind":
				kind = n.Content[i+1]
			}
		}
		if apiVersion != nil && kind != nil && apiVersion.Kind == yaml.ScalarNode && kind.Kind == yaml.ScalarNode {
			if gv, err := schema.ParseGroupVersion(apiVersion.Value); err == nil {
				latest, ok := m.latest[schema.GroupKind{Group: gv.Group, Kind: kind.Value}]
				if ok && latest != gv.Version {
					*ups = append(*ups, apiUpgrade{line: apiVersion.Line, column: apiVersion.Column, kind: kind.Value,
						from: apiVersion.Value, to: gv.Group + "/" + latest})
				}
			}
		}
	}
	for _, c := range n.Content {
		m.walk(c, ups)
	}
}

// rewrite returns data with each upgrade applied to the line it is on: only
// the apiVersion's text changes, so comments, quotes and layout stay.
func rewrite(path string, data []byte, ups []apiUpgrade) ([]byte, error) {
	lines := strings.SplitAfter(string(data), "\n")
	for _, u := range ups {
		if u.line < 1 || u.line > len(lines) {
			return nil, fmt.Errorf("%s:%d: line out of range", path, u.line)
		}
		l := lines[u.line-1]
		col := len([]rune(l)) // the column is in characters
		if u.column-1 < col {
			col = u.column - 1
		}
		prefix := string([]rune(l)[:col])
		rest := string([]rune(l)[col:])
		quoted := strings.TrimLeft(rest, `"'`)
		if !strings.HasPrefix(quoted, u.from) {
			return nil, fmt.Errorf("%s:%d: apiVersion %s is not written on one line, rewrite it by hand", path, u.line, u.from)
		}
		lines[u.line-1] = prefix + rest[:len(rest)-len(quoted)] + u.to + quoted[len(u.from):]
	}
	return []byte(strings.Join(lines, "")), nil
}

// writeAtomically replaces path with data, keeping its permissions.
func writeAtomically(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, fi.Mode().Perm())
}
