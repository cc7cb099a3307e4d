package kustomize

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/yaml"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// originAnnotation is where kustomize records the source of an object.
const originAnnotation = "config.kubernetes.io/origin"

// builtObject is a built object and the file it came from.
type builtObject struct {
	obj    *unstructured.Unstructured
	origin string // source file relative to the artifact root, or ""
}

// describe names the object for messages: Kind/namespace/name, and its
// file when known.
func (b *builtObject) describe() string {
	ref := objectRef(b.obj)
	if b.origin != "" {
		ref += " (from " + b.origin + ")"
	}
	return ref
}

// objectRef formats Kind/namespace/name, or Kind/name without namespace.
func objectRef(obj *unstructured.Unstructured) string {
	kind := obj.GetKind()
	if kind == "" {
		kind = "<no kind>"
	}
	if ns := obj.GetNamespace(); ns != "" {
		return kind + "/" + ns + "/" + obj.GetName()
	}
	return kind + "/" + obj.GetName()
}

// collectObjects converts kustomize's output, records each object's
// source file and drops the origin annotation unless it was asked for.
func collectObjects(fsys *confinedFS, dir string, m resmap.ResMap, keepOrigin bool) ([]*builtObject, error) {
	var out []*builtObject
	for i, res := range m.Resources() {
		// Through JSON, so numbers are int64 and float64 as unstructured
		// objects require (kyaml's maps hold plain ints, which DeepCopy refuses).
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%w: object %d of the build: %w", ErrInvalidManifest, i+1, err)
		}
		b := &builtObject{obj: &unstructured.Unstructured{}}
		if err := b.obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("%w: object %d of the build: %w", ErrInvalidManifest, i+1, err)
		}
		b.origin = takeOrigin(fsys, dir, b.obj, keepOrigin)
		if b.obj.GetAPIVersion() == "" || b.obj.GetKind() == "" {
			where := b.origin
			if where == "" {
				where = fmt.Sprintf("object %d of the build", i+1)
			}
			return nil, fmt.Errorf("%w: %s: object %q has no apiVersion or no kind", ErrInvalidManifest, where, b.obj.GetName())
		}
		out = append(out, b)
	}
	return out, nil
}

// takeOrigin returns the source of obj from its origin annotation, and
// removes the annotation unless keep is set.
func takeOrigin(fsys *confinedFS, dir string, obj *unstructured.Unstructured, keep bool) string {
	annotations := obj.GetAnnotations()
	raw, ok := annotations[originAnnotation]
	if !ok {
		return ""
	}
	if !keep {
		delete(annotations, originAnnotation)
		if len(annotations) == 0 {
			annotations = nil
		}
		obj.SetAnnotations(annotations)
	}
	var origin struct {
		Path         string `json:"path"`
		Repo         string `json:"repo"`
		ConfiguredIn string `json:"configuredIn"`
	}
	if err := yaml.Unmarshal([]byte(raw), &origin); err != nil {
		return ""
	}
	switch {
	case origin.Repo != "":
		return origin.Repo + "//" + origin.Path
	case origin.Path != "":
		return fsys.rel(filepath.Join(dir, filepath.FromSlash(origin.Path)))
	case origin.ConfiguredIn != "":
		return fsys.rel(filepath.Join(dir, filepath.FromSlash(origin.ConfiguredIn)))
	}
	return ""
}

// finish runs the per-object steps (decryption, substitution, common
// metadata), refuses duplicates and serialises the result; it stops when
// ctx ends.
func finish(ctx context.Context, built []*builtObject, o *Options) (*Result, error) {
	sub, err := newSubstituter(o.PostBuild, int(min(o.maxFileSize(), math.MaxInt)))
	if err != nil {
		return nil, err
	}
	for _, b := range built {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if o.Decrypt != nil && !optedOut(b.obj, kustomizev1.DecryptKey) {
			if err := o.Decrypt(b.obj); err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrDecryption, b.describe(), err)
			}
		}
		if sub != nil && !optedOut(b.obj, kustomizev1.SubstituteKey) {
			obj, err := sub.object(b.obj)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrSubstitution, b.describe(), err)
			}
			b.obj = obj
		}
		if cm := o.CommonMetadata; cm != nil {
			b.obj.SetLabels(mergeStrings(b.obj.GetLabels(), cm.Labels))
			b.obj.SetAnnotations(mergeStrings(b.obj.GetAnnotations(), cm.Annotations))
		}
	}
	if err := checkDuplicates(built); err != nil {
		return nil, err
	}
	res := &Result{}
	var buf bytes.Buffer
	for i, b := range built {
		data, err := yaml.Marshal(b.obj.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.describe(), err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(data)
		res.Objects = append(res.Objects, b.obj)
	}
	res.Manifests = buf.Bytes()
	sum := sha256.Sum256(res.Manifests)
	res.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return res, nil
}

// optedOut reports whether obj carries key: disabled as a label or an
// annotation (compared without regard to case).
func optedOut(obj *unstructured.Unstructured, key string) bool {
	return strings.EqualFold(obj.GetLabels()[key], kustomizev1.DisabledValue) ||
		strings.EqualFold(obj.GetAnnotations()[key], kustomizev1.DisabledValue)
}

// mergeStrings returns base with extra's keys set over it.
func mergeStrings(base, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return base
	}
	if base == nil {
		base = make(map[string]string, len(extra))
	}
	for k, v := range extra {
		base[k] = v
	}
	return base
}

// checkDuplicates refuses two objects with the same group, kind, namespace
// and name.
func checkDuplicates(built []*builtObject) error {
	type key struct {
		gk        schema.GroupKind
		namespace string
		name      string
	}
	seen := make(map[key]*builtObject, len(built))
	for _, b := range built {
		k := key{
			gk:        schema.FromAPIVersionAndKind(b.obj.GetAPIVersion(), b.obj.GetKind()).GroupKind(),
			namespace: b.obj.GetNamespace(),
			name:      b.obj.GetName(),
		}
		if first, ok := seen[k]; ok {
			where := ""
			if first.origin != "" || b.origin != "" {
				where = fmt.Sprintf(" (from %s and from %s)", orUnknown(first.origin), orUnknown(b.origin))
			}
			return fmt.Errorf("%w: %s is built twice%s", ErrDuplicate, objectRef(b.obj), where)
		}
		seen[k] = b
	}
	return nil
}

// orUnknown returns origin, or a placeholder when it is not known.
func orUnknown(origin string) string {
	if origin == "" {
		return "an unknown file"
	}
	return origin
}
