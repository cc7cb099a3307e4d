package kinds

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// ArtifactGenerator is the entry of source.extensions.fluxcd.io
// ArtifactGenerator: `flux get artifacts generators` (or generator),
// `flux export artifact generator`, `flux tree artifact generator`, as Flux
// names it. Flux's command line has no delete, reconcile, suspend or resume
// for it (ReadOnly); it is suspended by the annotation
// source.extensions.fluxcd.io/reconcile=disabled, which SUSPENDED reads
// (meta.Object's IsSuspended), and has no spec.suspend to set. Its sources
// are Related, so its events come with theirs, as a Kustomization's with
// its source's.
func ArtifactGenerator() Kind {
	return Kind{
		GroupVersionKind: sourceextv1beta1.GroupVersion.WithKind(sourceextv1beta1.ArtifactGeneratorKind),
		Resource:         "artifactgenerators",
		Command: Command{Group: "artifact", Name: "generator", Plural: "generators",
			Noun: "ArtifactGenerator", Nouns: "ArtifactGenerators"},
		New:      func() Object { return &sourceextv1beta1.ArtifactGenerator{} },
		NewList:  func() List { return &sourceextv1beta1.ArtifactGeneratorList{} },
		Items:    func(l List) []Object { return pointers(l.(*sourceextv1beta1.ArtifactGeneratorList).Items) },
		ReadOnly: true,
		Wide: []Column{
			{"SOURCES", func(o Object) string {
				return strconv.Itoa(len(o.(*sourceextv1beta1.ArtifactGenerator).Spec.Sources))
			}},
			{"ARTIFACTS", func(o Object) string {
				return strconv.Itoa(len(o.(*sourceextv1beta1.ArtifactGenerator).Status.Inventory))
			}},
		},
		Sections: func(o Object, age Age) []Section {
			return artifactGeneratorSections(o.(*sourceextv1beta1.ArtifactGenerator), age)
		},
		Summary: func(o Object) []Pair {
			g := o.(*sourceextv1beta1.ArtifactGenerator)
			return []Pair{{"Sources", strings.Join(generatorSourceStrings(g), ", ")},
				{"Artifacts", strconv.Itoa(len(g.Status.Inventory))}}
		},
		Related: func(o Object) []Ref { return GeneratorSources(o.(*sourceextv1beta1.ArtifactGenerator)) },
	}
}

// GeneratorSources are the sources spec.sources of g names, in order, each
// with its namespace defaulted to g's and the API version of its kind
// (all source.toolkit.fluxcd.io/v1).
func GeneratorSources(g *sourceextv1beta1.ArtifactGenerator) []Ref {
	refs := make([]Ref, 0, len(g.Spec.Sources))
	for _, s := range g.Spec.Sources {
		refs = append(refs, Ref{APIVersion: sourceAPIVersion, Kind: s.Kind, Namespace: g.SourceNamespace(s), Name: s.Name})
	}
	return refs
}

// sourceAPIVersion is the API version of every kind an ArtifactGenerator
// reads (Bucket, GitRepository, OCIRepository, HelmChart, ExternalArtifact).
const sourceAPIVersion = "source.toolkit.fluxcd.io/v1"

// generatorSourceStrings are g's sources as @alias=Kind/namespace/name.
func generatorSourceStrings(g *sourceextv1beta1.ArtifactGenerator) []string {
	out := make([]string, 0, len(g.Spec.Sources))
	for _, s := range g.Spec.Sources {
		out = append(out, fmt.Sprintf("@%s=%s/%s/%s", s.Alias, s.Kind, g.SourceNamespace(s), s.Name))
	}
	return out
}

// artifactGeneratorSections are what describe shows of an
// ArtifactGenerator: its sources and outputs, whether the annotation
// suspends it, its status, conditions, and the ExternalArtifacts it
// generated (its inventory), sorted.
func artifactGeneratorSections(g *sourceextv1beta1.ArtifactGenerator, age Age) []Section {
	var outputs []string
	for _, a := range g.Spec.OutputArtifacts {
		outputs = append(outputs, a.Name)
	}
	var inventory []string // nil when empty: the section reads <none>
	for _, e := range g.Status.Inventory {
		inventory = append(inventory, fmt.Sprintf("ExternalArtifact/%s/%s (%s)", e.Namespace, e.Name, e.Digest))
	}
	sort.Strings(inventory)
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Sources", strings.Join(generatorSourceStrings(g), ", ")},
			{"Path Pattern", g.Spec.PathPattern},
			{"Artifacts", strings.Join(outputs, ", ")},
			{"Suspend", strconv.FormatBool(g.IsSuspended())},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", g.GetObservedGeneration(), g.Generation)},
			{"Observed Sources Digest", g.Status.ObservedSourcesDigest},
			{"Last Handled Reconcile", g.Status.LastHandledReconcileAt},
		}},
		conditions(g, age),
		{Title: "Inventory", List: inventory},
	}
}
