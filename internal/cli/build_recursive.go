package cli

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// recursiveBuild is one run of `flux build kustomization --recursive`: the
// Kustomization built from --path, then every Kustomization its output
// holds whose source has a local directory, built from there, depth first.
type recursiveBuild struct{ nestedWalk }

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
	r := &recursiveBuild{nestedWalk{f: f, b: b, ignorePaths: ignorePaths, sources: sources, visited: map[string]bool{}}}
	bb, done, err := withIgnore(b, ignorePaths)
	if err != nil {
		return nil, err
	}
	defer done()
	ks, objs, err := buildKustomization(ctx, f, name, bb)
	if err != nil {
		return nil, err
	}
	r.top(ks)
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
	for n, err := range r.kustomizations(objs, "built") {
		if err != nil {
			return nil, err
		}
		built, err := buildIgnoring(ctx, r.f, n.ks.Name, n.b, r.ignorePaths)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.ref, err)
		}
		below, err := r.nested(ctx, built)
		if err != nil {
			return nil, err
		}
		out = append(out, below...)
	}
	return out, nil
}
