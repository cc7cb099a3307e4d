package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
)

// originOption is the kustomize build metadata that records each object's
// source file; the build always asks for it, to name files in errors.
const originOption = string(kustomizev1.OriginAnnotations)

// prepareKustomization returns the path and content of the kustomization
// of the resolved directory dir with the spec fields merged in, generating
// it when dir has none.
func prepareKustomization(fsys *confinedFS, dir string, o *Options) (string, []byte, error) {
	name := findKustomizationFile(fsys, dir)
	var k map[string]any
	if name == "" {
		name = "kustomization.yaml"
		generated, err := generateKustomization(fsys, dir)
		if err != nil {
			return "", nil, err
		}
		k = generated
	} else {
		data, err := fsys.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", nil, fsys.fileError(filepath.Join(dir, name), err)
		}
		if err := yaml.Unmarshal(data, &k); err != nil {
			return "", nil, fmt.Errorf("%w: %s: %w", ErrInvalidManifest, fsys.rel(filepath.Join(dir, name)), err)
		}
		if k == nil {
			k = map[string]any{}
		}
	}
	kfile := filepath.Join(dir, name)
	if err := mergeSpec(fsys, dir, k, o); err != nil {
		return "", nil, fmt.Errorf("%s: %w", fsys.rel(kfile), err)
	}
	out, err := yaml.Marshal(k)
	if err != nil {
		return "", nil, err
	}
	return kfile, out, nil
}

// mergeSpec merges the spec fields into the kustomization k, as Flux
// merges them into the kustomization file.
func mergeSpec(fsys *confinedFS, dir string, k map[string]any, o *Options) error {
	if o.TargetNamespace != "" {
		k["namespace"] = o.TargetNamespace
	}
	if o.NamePrefix != "" {
		k["namePrefix"] = o.NamePrefix
	}
	if o.NameSuffix != "" {
		k["nameSuffix"] = o.NameSuffix
	}
	for _, p := range o.Patches {
		k["patches"] = append(list(k["patches"]), patchEntry(p))
	}
	for _, img := range o.Images {
		k["images"] = setImage(list(k["images"]), img)
	}
	for _, c := range o.Components {
		keep, err := componentPresent(fsys, dir, c, o.IgnoreMissingComponents)
		if err != nil {
			return err
		}
		if keep {
			k["components"] = append(list(k["components"]), c)
		}
	}
	metadata := list(k["buildMetadata"])
	for _, opt := range append(append([]kustomizev1.BuildMetadataOption{}, o.BuildMetadata...), kustomizev1.OriginAnnotations) {
		if !contains(metadata, string(opt)) {
			metadata = append(metadata, string(opt))
		}
	}
	k["buildMetadata"] = metadata
	return nil
}

// componentPresent checks a spec component: remote ones are kept (the
// graph walk decides on them), local ones must stay inside the artifact and
// exist unless missing ones are ignored.
func componentPresent(fsys *confinedFS, dir, c string, ignoreMissing bool) (bool, error) {
	if remote, _ := remoteKind(c); remote {
		return true, nil
	}
	_, _, err := fsys.resolve(filepath.Join(dir, c))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist) && ignoreMissing:
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("component %q does not exist (set spec.ignoreMissingComponents to skip missing components)", c)
	}
	return false, fmt.Errorf("component %q: %w", c, err)
}

// patchEntry is the kustomization form of a spec patch.
func patchEntry(p meta.Patch) map[string]any {
	entry := map[string]any{"patch": p.Patch}
	if t := p.Target; t != nil {
		target := map[string]any{}
		for key, value := range map[string]string{
			"group": t.Group, "version": t.Version, "kind": t.Kind, "namespace": t.Namespace,
			"name": t.Name, "labelSelector": t.LabelSelector, "annotationSelector": t.AnnotationSelector,
		} {
			if value != "" {
				target[key] = value
			}
		}
		entry["target"] = target
	}
	return entry
}

// setImage replaces the image entry of the same name, or appends one.
func setImage(images []any, img meta.Image) []any {
	entry := map[string]any{"name": img.Name}
	for key, value := range map[string]string{"newName": img.NewName, "newTag": img.NewTag, "digest": img.Digest} {
		if value != "" {
			entry[key] = value
		}
	}
	for i, existing := range images {
		if m, ok := existing.(map[string]any); ok && m["name"] == img.Name {
			images[i] = entry
			return images
		}
	}
	return append(images, entry)
}

// list returns v as a list, or nil when it is not one.
func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// contains reports whether the list l holds the string s.
func contains(l []any, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
