package kustomize

import (
	"path/filepath"
	"strings"

	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

func patchPaths(k *kustypes.Kustomization) []string {
	var out []string
	for _, p := range append(append([]kustypes.Patch{}, k.Patches...), k.PatchesJson6902...) {
		out = append(out, p.Path)
	}
	return out
}

func strategicMergePaths(k *kustypes.Kustomization) []string {
	out := make([]string, 0, len(k.PatchesStrategicMerge))
	for _, p := range k.PatchesStrategicMerge {
		out = append(out, string(p))
	}
	return out
}

func replacementPaths(k *kustypes.Kustomization) []string {
	out := make([]string, 0, len(k.Replacements))
	for _, r := range k.Replacements {
		out = append(out, r.Path)
	}
	return out
}

func configMapSources(k *kustypes.Kustomization) []string {
	var out []string
	for _, g := range k.ConfigMapGenerator {
		out = append(out, g.EnvSources...)
		out = append(out, g.EnvSource)
		for _, src := range g.FileSources {
			out = append(out, fileSourceRefs(src)...)
		}
	}
	return out
}

// fileSourceRefs returns a generator "files" entry and, for a key=path
// entry, its path: a URL may hold '=' in its query.
func fileSourceRefs(src string) []string {
	if _, p, ok := strings.Cut(src, "="); ok {
		return []string{src, p}
	}
	return []string{src}
}

// loadingKeys are the fields of generator and transformer configurations
// whose values kustomize loads as files.
var loadingKeys = map[string]bool{"path": true, "paths": true, "files": true, "envs": true, "env": true}

// configRefs returns the file references of plugin configurations: every
// string under a loading key, at any depth, of every YAML document.
func configRefs(data []byte) []string {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil
	}
	var refs []string
	var collect func(v any, key string)
	collect = func(v any, key string) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				collect(x, k)
			}
		case []any:
			for _, x := range t {
				collect(x, key)
			}
		case string:
			if loadingKeys[key] {
				refs = append(refs, fileSourceRefs(t)...)
			}
		}
	}
	for _, doc := range docs {
		var v any
		if yaml.Unmarshal(doc, &v) == nil {
			collect(v, "")
		}
	}
	return refs
}

// pluginConfigs checks the configurations of generators, transformers and
// validators: inline ones, files, and directories whose kustomization lists
// them as resources.
func (w *graphWalker) pluginConfigs(dir, kfile string, entries []string) error {
	for _, entry := range entries {
		if strings.Contains(entry, "\n") {
			if err := w.checkAll(kfile, "plugin configuration", configRefs([]byte(entry))); err != nil {
				return err
			}
			continue
		}
		if remote, _ := remoteKind(entry); remote {
			continue // checked as an entry of its field
		}
		p, _, err := w.fsys.resolve(filepath.Join(dir, entry))
		if err != nil {
			continue // kustomize reports it
		}
		if w.fsys.IsDir(p) {
			if err := w.walk(p); err != nil {
				return err
			}
			if err := w.pluginDir(p); err != nil {
				return err
			}
			continue
		}
		data, err := w.fsys.ReadFile(p)
		if err != nil {
			continue
		}
		if err := w.checkAll(p, "plugin configuration", configRefs(data)); err != nil {
			return err
		}
	}
	return nil
}

// pluginDir checks the plugin configurations a kustomization directory
// used as a generator or transformer lists as its resources.
func (w *graphWalker) pluginDir(dir string) error {
	if w.plugins[dir] {
		return nil
	}
	w.plugins[dir] = true
	name := findKustomizationFile(w.fsys, dir)
	if name == "" {
		return nil
	}
	data, err := w.fsys.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil
	}
	w.noteSchema(data)
	var k kustypes.Kustomization
	if yaml.Unmarshal(data, &k) != nil {
		return nil
	}
	return w.pluginConfigs(dir, filepath.Join(dir, name), k.Resources)
}

// checkAll applies checkRemote to every reference.
func (w *graphWalker) checkAll(file, field string, refs []string) error {
	for _, ref := range refs {
		if err := w.checkRemote(file, field, ref); err != nil {
			return err
		}
	}
	return nil
}
