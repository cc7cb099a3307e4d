package cli

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
	"github.com/driftless/driftless/internal/kinds"
)

// traceSourceChain is the source of obj (of kind k) as traceSource reads it
// and, when that source is an ExternalArtifact an ArtifactGenerator wrote,
// the generator and then each of the generator's sources: where the
// content an applier applied really came from. A link that is missing
// reads "Not found" and ends the chain there, as a missing source does.
func traceSourceChain(ctx context.Context, c client.Client, k kinds.Kind, obj kinds.Object) ([][]pair, error) {
	src, err := traceSource(ctx, c, k, obj)
	if err != nil {
		return nil, err
	}
	sections := [][]pair{src}
	ref := k.Source(obj)
	if ref.GroupKind() != kinds.ExternalArtifact().GroupKind() {
		return sections, nil
	}
	ea := &sourcev1.ExternalArtifact{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, ea); err != nil {
		if apierrors.IsNotFound(err) {
			return sections, nil // traceSource said so already
		}
		return nil, fmt.Errorf("getting ExternalArtifact %s/%s, the source of %s %s/%s: %w",
			ref.Namespace, ref.Name, k.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	more, err := traceGenerator(ctx, c, ea)
	if err != nil {
		return nil, err
	}
	return append(sections, more...), nil
}

// traceGenerator is the ArtifactGenerator that produced ea (its
// spec.sourceRef) and the generator's sources, one section each; none when
// ea names no ArtifactGenerator (a third party's ExternalArtifact).
func traceGenerator(ctx context.Context, c client.Client, ea *sourcev1.ExternalArtifact) ([][]pair, error) {
	ref, ok := kinds.Producer(ea)
	gk := kinds.ArtifactGenerator()
	if !ok || ref.GroupKind() != gk.GroupKind() {
		return nil, nil
	}
	g := &sourceextv1beta1.ArtifactGenerator{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, g); err != nil {
		if apierrors.IsNotFound(err) {
			return [][]pair{{{gk.Kind, ref.Name}, {"Namespace", ref.Namespace}, {"Status", "Not found"}}}, nil
		}
		return nil, fmt.Errorf("getting ArtifactGenerator %s/%s, the producer of ExternalArtifact %s/%s: %w",
			ref.Namespace, ref.Name, ea.Namespace, ea.Name, err)
	}
	sections := [][]pair{traceLines(gk, g)}
	for _, s := range g.Spec.Sources {
		src, err := traceGeneratorSource(ctx, c, g, s)
		if err != nil {
			return nil, err
		}
		sections = append(sections, src)
	}
	return sections, nil
}

// traceGeneratorSource is one source of g, under its alias: the lines of
// a catalogue kind, or "Not found".
func traceGeneratorSource(ctx context.Context, c client.Client, g *sourceextv1beta1.ArtifactGenerator,
	s sourceextv1beta1.SourceReference) ([]pair, error) {
	ns := g.SourceNamespace(s)
	alias := pair{"Alias", "@" + s.Alias}
	sk, ok := kinds.ByKind(s.Kind)
	if !ok || sk.Group != sourcev1.GroupVersion.Group {
		return []pair{{s.Kind, s.Name}, {"Namespace", ns}, alias, {"Status", "Unknown source kind"}}, nil
	}
	obj := sk.New()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: s.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return []pair{{s.Kind, s.Name}, {"Namespace", ns}, alias, {"Status", "Not found"}}, nil
		}
		return nil, fmt.Errorf("getting %s %s/%s, source @%s of ArtifactGenerator %s/%s: %w",
			s.Kind, ns, s.Name, s.Alias, g.Namespace, g.Name, err)
	}
	lines := traceLines(sk, obj)
	// The alias after kind/name and namespace, before the summary.
	return append(lines[:2:2], append([]pair{alias}, lines[2:]...)...), nil
}
