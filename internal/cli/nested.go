package cli

import (
	"fmt"
	"iter"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
)

// nestedWalk is what `build kustomization -r` and `diff kustomization -r`
// share: finding the Kustomizations a build holds, each with the local
// directory of its source, and each at most once.
type nestedWalk struct {
	f           *Factory
	b           buildFlags
	ignorePaths []string
	// sources maps Kind/namespace/name of a source to its local directory.
	sources map[string]string
	// visited holds namespace/name of the Kustomizations already done.
	visited map[string]bool
}

// nestedKS is a Kustomization found in a build's output, with
// the flags of its own build (its spec, and its path in the local copy of
// its source).
type nestedKS struct {
	ref string // Kustomization/<namespace>/<name>, for messages
	ks  *kustomizev1.Kustomization
	b   buildFlags
}

// top records the top Kustomization, built from --path: done already, and
// --path is its spec.path inside its source, so the source's local root is
// --path without spec.path, unless --local-sources gives it.
func (w *nestedWalk) top(ks *kustomizev1.Kustomization) {
	w.visited[ks.Namespace+"/"+ks.Name] = true
	key := sourceKey(ks)
	if _, ok := w.sources[key]; !ok {
		if root, ok := sourceRoot(w.b.path, ks.Spec.Path); ok {
			w.sources[key] = root
		}
	}
}

// kustomizations yields, in order, the Kustomizations among objs that are
// not done yet and whose source has a local directory, marking each done
// as it comes to it. One reached again (a Kustomization that contains
// itself, or one held twice) is skipped with a note on stderr saying it
// was already done ("built", "diffed").
func (w *nestedWalk) kustomizations(objs []*unstructured.Unstructured, done string) iter.Seq2[nestedKS, error] {
	return func(yield func(nestedKS, error) bool) {
		for _, o := range objs {
			gvk := o.GroupVersionKind()
			if gvk.Group != kustomizev1.GroupVersion.Group || gvk.Kind != kustomizev1.KustomizationKind {
				continue
			}
			ref := fmt.Sprintf("Kustomization/%s/%s", o.GetNamespace(), o.GetName())
			id := o.GetNamespace() + "/" + o.GetName()
			if w.visited[id] {
				fmt.Fprintf(w.f.Err, "► %s skipped: already %s (a Kustomization that contains itself, or one reached twice)\n", ref, done)
				continue
			}
			w.visited[id] = true
			n, ok, err := w.resolve(o, ref)
			if err != nil {
				yield(n, err)
				return
			}
			if ok && !yield(n, nil) {
				return
			}
		}
	}
}

// resolve reads the Kustomization o and finds its local directory; ok is
// false, with a note on stderr, when its source has none.
func (w *nestedWalk) resolve(o *unstructured.Unstructured, ref string) (nestedKS, bool, error) {
	ks := &kustomizev1.Kustomization{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ks); err != nil {
		return nestedKS{}, false, fmt.Errorf("%s: %w", ref, err)
	}
	dir, ok, err := localDir(w.f, w.sources, ref, ks)
	if err != nil || !ok {
		return nestedKS{}, false, err
	}
	if ks.Namespace == "" {
		if ks.Namespace, err = w.f.Namespace(); err != nil {
			return nestedKS{}, false, err
		}
	}
	b := w.b
	b.path, b.file, b.spec = dir, "", ks
	return nestedKS{ref: ref, ks: ks, b: b}, true, nil
}
