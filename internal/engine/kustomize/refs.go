package kustomize

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// scpUser matches the user of an scp-like git URL (git@host:org/repo), as
// kustomize recognises it.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// remoteKind tells whether a reference is remote for kustomize: a URL, a
// git repository (git::, scp-like, github.com/...) or a file:// repository.
func remoteKind(ref string) (remote, fileScheme bool) {
	s := strings.ToLower(strings.TrimSpace(ref))
	forced := strings.HasPrefix(s, "git::")
	s = strings.TrimPrefix(s, "git::")
	switch {
	case strings.HasPrefix(s, "file://"):
		return true, true
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "ssh://"):
		return true, false
	case strings.HasPrefix(s, "github.com/"), strings.HasPrefix(s, "github.com:"):
		return true, false
	}
	return forced || scpUser.MatchString(strings.TrimPrefix(strings.TrimSpace(ref), "git::")), false
}

// graphWalker visits a kustomization and its local resources and
// components, refusing remote references and collecting the files consumed
// by secretGenerator.
type graphWalker struct {
	fsys       *confinedFS
	noRemote   bool
	visited    map[string]bool         // kustomization directories walked
	plugins    map[string]bool         // plugin configuration directories checked
	genSources map[string]SecretSource // by resolved path, without data
	// schema is set when the build may change kustomize's global OpenAPI
	// schema: a kustomization mentions openapi (in any case, as kustomize
	// matches field names), or a remote reference brings content that is
	// not walked.
	schema bool
}

func newGraphWalker(fsys *confinedFS, noRemote bool) *graphWalker {
	return &graphWalker{fsys: fsys, noRemote: noRemote, visited: map[string]bool{},
		plugins: map[string]bool{}, genSources: map[string]SecretSource{}}
}

// sources returns the resolved paths of the secretGenerator sources
// found, sorted.
func (w *graphWalker) sources() []string {
	out := make([]string, 0, len(w.genSources))
	for p := range w.genSources {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// walk visits the kustomization of the resolved directory dir.
func (w *graphWalker) walk(dir string) error {
	if w.visited[dir] {
		return nil
	}
	w.visited[dir] = true
	name := findKustomizationFile(w.fsys, dir)
	if name == "" {
		return nil // kustomize reports the missing file
	}
	kfile := filepath.Join(dir, name)
	data, err := w.fsys.ReadFile(kfile)
	if err != nil {
		return w.fsys.fileError(kfile, err)
	}
	w.noteSchema(data)
	var k kustypes.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil // kustomize reports the malformed file
	}
	for _, field := range []struct {
		name string
		refs []string
	}{
		{"resources", k.Resources}, {"bases", k.Bases}, {"components", k.Components},
		{"crds", k.Crds}, {"configurations", k.Configurations}, {"generators", k.Generators},
		{"transformers", k.Transformers}, {"validators", k.Validators},
		{"openapi", []string{k.OpenAPI["path"]}}, {"patches", patchPaths(&k)},
		{"patchesStrategicMerge", strategicMergePaths(&k)}, {"replacements", replacementPaths(&k)},
		{"configMapGenerator", configMapSources(&k)},
	} {
		if err := w.checkAll(kfile, field.name, field.refs); err != nil {
			return err
		}
	}
	for _, sg := range k.SecretGenerator {
		if err := w.secretSources(dir, kfile, &sg); err != nil {
			return err
		}
	}
	plugins := append(append(append([]string{}, k.Generators...), k.Transformers...), k.Validators...)
	if err := w.pluginConfigs(dir, kfile, plugins); err != nil {
		return err
	}
	for _, ref := range append(append(append([]string{}, k.Resources...), k.Bases...), k.Components...) {
		if remote, _ := remoteKind(ref); remote {
			continue
		}
		sub, _, err := w.fsys.resolve(filepath.Join(dir, ref))
		if err != nil || !w.fsys.IsDir(sub) {
			continue // files, and errors kustomize reports with its context
		}
		if err := w.walk(sub); err != nil {
			return err
		}
	}
	return nil
}

// noteSchema records a kustomization that may set kustomize's OpenAPI
// schema.
func (w *graphWalker) noteSchema(kustomization []byte) {
	if bytes.Contains(bytes.ToLower(kustomization), []byte("openapi")) {
		w.schema = true
	}
}

// checkRemote refuses a remote reference when remote bases are disabled,
// and a file:// repository always.
func (w *graphWalker) checkRemote(kfile, field, ref string) error {
	if ref == "" || strings.ContainsAny(ref, "\n") {
		return nil // inline content
	}
	remote, fileScheme := remoteKind(ref)
	w.schema = w.schema || remote
	switch {
	case fileScheme:
		return fmt.Errorf("%w: %s: %s entry %q reads a repository from the controller's disk", ErrRemoteRefused, w.fsys.rel(kfile), field, ref)
	case remote && w.noRemote:
		return fmt.Errorf("%w: %s: %s entry %q is remote and remote bases are disabled (--no-remote-bases)", ErrRemoteRefused, w.fsys.rel(kfile), field, ref)
	}
	return nil
}

// secretSources records the files and env files of one secretGenerator.
func (w *graphWalker) secretSources(dir, kfile string, sg *kustypes.SecretArgs) error {
	var sources []SecretSource
	for _, p := range sg.EnvSources {
		sources = append(sources, SecretSource{Path: p, Env: true})
	}
	if sg.EnvSource != "" {
		sources = append(sources, SecretSource{Path: sg.EnvSource, Env: true})
	}
	for _, src := range sg.FileSources {
		if err := w.checkRemote(kfile, "secretGenerator", src); err != nil {
			return err
		}
		s := SecretSource{Path: src}
		if key, p, ok := strings.Cut(src, "="); ok {
			s = SecretSource{Path: p, Key: key}
		}
		sources = append(sources, s)
	}
	for _, s := range sources {
		if err := w.checkRemote(kfile, "secretGenerator", s.Path); err != nil {
			return err
		}
		if remote, _ := remoteKind(s.Path); remote || strings.Contains(s.Path, "://") {
			continue
		}
		resolved, _, err := w.fsys.resolve(filepath.Join(dir, s.Path))
		if err != nil || w.fsys.IsDir(resolved) {
			continue // kustomize reports it, naming the generator
		}
		if _, seen := w.genSources[resolved]; !seen {
			s.Path = w.fsys.rel(resolved)
			w.genSources[resolved] = s
		}
	}
	return nil
}
