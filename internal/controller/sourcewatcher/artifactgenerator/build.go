package artifactgenerator

import (
	"context"
	"errors"
	"fmt"
	"os"

	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/engine/generator"
	"github.com/driftless/driftless/internal/reconcile"
)

// build runs the generator engine over the unpacked sources into a
// temporary directory of this pass. A spec that can never build stalls
// (ValidationFailed); content that does not build with these sources is
// retried (BuildFailed), and a new source revision brings it back at once.
func (r *Reconciler) build(ctx context.Context, obj *swv1.ArtifactGenerator, p *reconcile.Pass, st *State) error {
	if st.upToDate {
		return nil
	}
	tmp, err := os.MkdirTemp(r.TempDir, fmt.Sprintf("artifactgenerator-%s-%s-build-", obj.Namespace, obj.Name))
	if err != nil {
		return reconcile.Failed(BuildFailedReason, "create temporary directory: %w", err)
	}
	p.Defer(func() { _ = os.RemoveAll(tmp) })
	results, err := generator.Generate(ctx, engineSources(st.sources), engineSpec(obj, r.MaxExtractSize), tmp)
	switch {
	case err == nil:
	case errors.Is(err, generator.ErrValidationFailed):
		return reconcile.Stalling(swv1.ValidationFailedReason, "%w", err)
	default:
		return reconcile.Failed(BuildFailedReason, "%w", err)
	}
	st.results = results
	return nil
}

// engineSources joins spec.sources with their unpacked artifacts.
func engineSources(in []input) []generator.Source {
	out := make([]generator.Source, 0, len(in))
	for _, s := range in {
		out = append(out, generator.Source{Alias: s.ref.Alias, Dir: s.dir, Revision: s.src.GetArtifact().Revision})
	}
	return out
}

// engineSpec is the part of the spec the engine builds.
func engineSpec(obj *swv1.ArtifactGenerator, maxExtract int64) generator.Spec {
	spec := generator.Spec{PathPattern: obj.Spec.PathPattern, MaxExtractSize: maxExtract}
	for _, o := range obj.Spec.OutputArtifacts {
		out := generator.Output{Name: o.Name, Revision: o.Revision, OriginRevision: o.OriginRevision}
		for _, c := range o.Copy {
			out.Copy = append(out.Copy, generator.Copy{From: c.From, To: c.To, Exclude: c.Exclude, Strategy: c.GetStrategy()})
		}
		spec.Outputs = append(spec.Outputs, out)
	}
	return spec
}
