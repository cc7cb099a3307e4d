package kinds

import (
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// ExternalArtifact is the entry of source.toolkit.fluxcd.io ExternalArtifact:
// `flux get sources external`, `flux export source external`, as Flux names
// it. Its producer (an ArtifactGenerator, or a third party's controller)
// writes its status, and no controller reconciles it, so Flux's command line
// only reads it: no create, delete, reconcile, suspend or resume (ReadOnly),
// and SUSPENDED always reads False, as it has no spec.suspend. Its events
// come with those of its producer (Related), so that `flux events --for
// ExternalArtifact/apps` says why the generator did or did not write it.
func ExternalArtifact() Kind {
	return Kind{
		GroupVersionKind: sourcev1.GroupVersion.WithKind(sourcev1.ExternalArtifactKind),
		Resource:         "externalartifacts",
		Command: Command{Group: "source", Name: "external", Plural: "external",
			Noun: "ExternalArtifact source", Nouns: "ExternalArtifact sources"},
		New:           func() Object { return &sourcev1.ExternalArtifact{} },
		NewList:       func() List { return &sourcev1.ExternalArtifactList{} },
		Items:         func(l List) []Object { return pointers(l.(*sourcev1.ExternalArtifactList).Items) },
		Revision:      func(o Object) string { return artifactRevision(o.(*sourcev1.ExternalArtifact).Status.Artifact) },
		RevisionVerb:  "fetched",
		Suspended:     func(Object) bool { return false },
		NotReconciled: true,
		ReadOnly:      true,
		Wide: []Column{
			{"SOURCE", func(o Object) string { return producerString(o.(*sourcev1.ExternalArtifact)) }},
		},
		Sections: func(o Object, age Age) []Section {
			return externalArtifactSections(o.(*sourcev1.ExternalArtifact), age)
		},
		Summary: func(o Object) []Pair {
			ea := o.(*sourcev1.ExternalArtifact)
			pairs := []Pair{{"Source", producerString(ea)}}
			if origin := originRevision(ea.Status.Artifact); origin != "" {
				pairs = append(pairs, Pair{"Origin Revision", origin})
			}
			return pairs
		},
		Related: func(o Object) []Ref {
			if ref, ok := Producer(o.(*sourcev1.ExternalArtifact)); ok {
				return []Ref{ref}
			}
			return nil
		},
	}
}

// Producer is the object spec.sourceRef of ea names (the ArtifactGenerator
// that wrote it), its namespace defaulted to the ExternalArtifact's and its
// API version to the ArtifactGenerator's when the kind is that; false when
// ea names none (a third party may leave it out).
func Producer(ea *sourcev1.ExternalArtifact) (Ref, bool) {
	ref := ea.Spec.SourceRef
	if ref == nil || ref.Kind == "" || ref.Name == "" {
		return Ref{}, false
	}
	r := Ref{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
	if r.Namespace == "" {
		r.Namespace = ea.Namespace
	}
	if r.APIVersion == "" && r.Kind == sourceextv1beta1.ArtifactGeneratorKind {
		r.APIVersion = sourceextv1beta1.GroupVersion.String()
	}
	return r, true
}

// producerString is spec.sourceRef as Kind/namespace/name, "" for none.
func producerString(ea *sourcev1.ExternalArtifact) string {
	ref, ok := Producer(ea)
	if !ok {
		return ""
	}
	return ref.Kind + "/" + ref.Namespace + "/" + ref.Name
}

// externalArtifactSections are what describe shows of an ExternalArtifact:
// who produced it, its artifact (origin revision in the metadata) and
// conditions. It has no observedGeneration or lastHandledReconcileAt: no
// controller reconciles it.
func externalArtifactSections(ea *sourcev1.ExternalArtifact, age Age) []Section {
	return []Section{
		{Title: "Spec", Pairs: []Pair{{"Source", producerString(ea)}}},
		artifact(ea.Status.Artifact, age),
		conditions(ea, age),
	}
}

// originRevision is the revision of the content an artifact was made from
// (the metadata an ArtifactGenerator's originRevision fills), "" for none.
func originRevision(a *meta.Artifact) string {
	if a == nil {
		return ""
	}
	return a.Metadata[sourceextv1beta1.OriginRevisionMetadataKey]
}
