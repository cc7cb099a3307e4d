package cli

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// recursiveBuild is one run of `flux build kustomization --recursive`: the
// Kustomization built from --path, then every Kustomization its output
// holds whose source has a local directory, built from there, depth first.
type recursiveBuild struct {
	f           *Factory
	b           buildFlags
	ignorePaths []string
	sources     map[string]string // Kind/namespace/name of a source -> local directory
	visited     map[string]bool   // namespace/name of the Kustomizations built
}

// buildKustomizationTree builds name and, with recursive, what it holds.
// The objects of each nested Kustomization follow the whole output of the
// one that holds it.
func buildKustomizationTree(ctx context.Context, f *Factory, name string, b buildFlags, ignorePaths []string,
	recursive bool, localSources map[string]string) ([]*unstructured.Unstructured, error) {
	if !recursive {
		if len(localSources) > 0 {
			return nil, errors.New("--local-sources is only used with --recursive: add --recursive")
		}
		return buildIgnoring(ctx, f, name, b, ignorePaths)
	}
	sources, err := parseLocalSources(localSources)
	if err != nil {
		return nil, err
	}
	r := &recursiveBuild{f: f, b: b, ignorePaths: ignorePaths, sources: sources, visited: map[string]bool{}}
	bb, done, err := withIgnore(b, ignorePaths)
	if err != nil {
		return nil, err
	}
	defer done()
	ks, objs, err := buildKustomization(ctx, f, name, bb)
	if err != nil {
		return nil, err
	}
	r.visited[ks.Namespace+"/"+ks.Name] = true
	// --path is the top Kustomization's spec.path inside its source.
	if key := sourceKey(ks); r.sources[key] == "" {
		if root, ok := sourceRoot(b.path, ks.Spec.Path); ok {
			r.sources[key] = root
		}
	}
	return r.nested(ctx, objs)
}

// buildIgnoring is one build with --ignore-paths applied.
func buildIgnoring(ctx context.Context, f *Factory, name string, b buildFlags, ignorePaths []string) ([]*unstructured.Unstructured, error) {
	b, done, err := withIgnore(b, ignorePaths)
	if err != nil {
		return nil, err
	}
	defer done()
	_, objs, err := buildKustomization(ctx, f, name, b)
	return objs, err
}

// nested returns objs followed by the builds of the Kustomizations among
// them, each followed by its own nested ones.
func (r *recursiveBuild) nested(ctx context.Context, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	out := objs
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Group != kustomizev1.GroupVersion.Group || gvk.Kind != kustomizev1.KustomizationKind {
			continue
		}
		ref := fmt.Sprintf("Kustomization/%s/%s", o.GetNamespace(), o.GetName())
		id := o.GetNamespace() + "/" + o.GetName()
		if r.visited[id] {
			fmt.Fprintf(r.f.Err, "► %s skipped: already built (a Kustomization that contains itself, or one reached twice)\n", ref)
			continue
		}
		r.visited[id] = true
		var ks kustomizev1.Kustomization
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &ks); err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		dir, ok, err := localDir(r.f, r.sources, ref, &ks)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if ks.Namespace == "" {
			if ks.Namespace, err = r.f.Namespace(); err != nil {
				return nil, err
			}
		}
		b := r.b
		b.path, b.file, b.spec = dir, "", &ks
		built, err := buildIgnoring(ctx, r.f, ks.Name, b, r.ignorePaths)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		below, err := r.nested(ctx, built)
		if err != nil {
			return nil, err
		}
		out = append(out, below...)
	}
	return out, nil
}
