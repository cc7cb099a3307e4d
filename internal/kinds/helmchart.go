package kinds

import (
	"fmt"
	"strconv"
	"strings"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// HelmChart is the entry of source.toolkit.fluxcd.io HelmChart: `flux
// <verb> source chart`, `flux get sources chart`, as Flux names it. Its
// source is spec.sourceRef, in its own namespace, which `flux reconcile
// source chart --with-source` reconciles first.
func HelmChart() Kind {
	return Kind{
		GroupVersionKind: sourcev1.GroupVersion.WithKind(sourcev1.HelmChartKind),
		Resource:         "helmcharts",
		Command:          Command{Group: "source", Name: "chart", Plural: "chart", Noun: "HelmChart source", Nouns: "HelmChart sources"},
		New:              func() Object { return &sourcev1.HelmChart{} },
		NewList:          func() List { return &sourcev1.HelmChartList{} },
		Items:            func(l List) []Object { return pointers(l.(*sourcev1.HelmChartList).Items) },
		Revision:         func(o Object) string { return artifactRevision(o.(*sourcev1.HelmChart).Status.Artifact) },
		RevisionVerb:     "fetched",
		SetSuspend:       func(o Object, s bool) { o.(*sourcev1.HelmChart).Spec.Suspend = s },
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*sourcev1.HelmChart).Spec.Interval.Duration.String() }},
			{"CHART", func(o Object) string { return o.(*sourcev1.HelmChart).Spec.Chart }},
			{"VERSION", func(o Object) string { return helmChartVersion(o.(*sourcev1.HelmChart)) }},
			{"SOURCE", func(o Object) string { return helmChartSourceString(o.(*sourcev1.HelmChart)) }},
		},
		Sections: func(o Object, age Age) []Section { return helmChartSections(o.(*sourcev1.HelmChart), age) },
		Summary: func(o Object) []Pair {
			c := o.(*sourcev1.HelmChart)
			return []Pair{{"Chart", c.Spec.Chart}, {"Version", helmChartVersion(c)}}
		},
		Source: func(o Object) Ref { return helmChartSource(o.(*sourcev1.HelmChart)) },
		// The kinds of spec.sourceRef (the API's enum and Flux's --source).
		SourceKinds: []string{sourcev1.HelmRepositoryKind, sourcev1.GitRepositoryKind, sourcev1.BucketKind},
		Related:     func(o Object) []Ref { return []Ref{helmChartSource(o.(*sourcev1.HelmChart))} },
		Examples: map[string]string{"reconcile": `  # Check the source of the HelmChart podinfo for a new chart now
  flux reconcile source chart podinfo

  # Fetch the index (or commit) of its source first, then the chart
  flux reconcile source chart podinfo --with-source`},
	}
}

// helmChartSource is spec.sourceRef: always in the chart's namespace, its
// API version defaulted to source.toolkit.fluxcd.io/v1.
func helmChartSource(c *sourcev1.HelmChart) Ref {
	ref := c.Spec.SourceRef
	r := Ref{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: c.Namespace, Name: ref.Name}
	if r.APIVersion == "" {
		r.APIVersion = sourcev1.GroupVersion.String()
	}
	return r
}

// helmChartSourceString is spec.sourceRef as --source spells it, Kind/name.
func helmChartSourceString(c *sourcev1.HelmChart) string {
	return c.Spec.SourceRef.Kind + "/" + c.Spec.SourceRef.Name
}

// helmChartVersion is spec.version with the API's default, '*'; a chart
// from a GitRepository or Bucket has the version of its Chart.yaml.
func helmChartVersion(c *sourcev1.HelmChart) string {
	switch {
	case c.Spec.SourceRef.Kind != "" && c.Spec.SourceRef.Kind != sourcev1.HelmRepositoryKind:
		return "from Chart.yaml"
	case c.Spec.Version == "":
		return "*"
	}
	return c.Spec.Version
}

func helmChartSections(c *sourcev1.HelmChart, age Age) []Section {
	s := c.Spec
	strategy := s.ReconcileStrategy
	if strategy == "" {
		strategy = sourcev1.ReconcileStrategyChartVersion
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Chart", s.Chart},
			{"Version", helmChartVersion(c)},
			{"Source", helmChartSourceString(c)},
			{"Interval", s.Interval.Duration.String()},
			{"Reconcile Strategy", strategy},
			{"Values Files", strings.Join(s.ValuesFiles, ", ")},
			{"Ignore Missing Values Files", strconv.FormatBool(s.IgnoreMissingValuesFiles)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
			{"Verify", helmChartVerifyString(s.Verify)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", c.Status.ObservedGeneration, c.Generation)},
			{"Observed Chart Name", c.Status.ObservedChartName},
			{"Observed Source Revision", c.Status.ObservedSourceArtifactRevision},
			{"Observed Values Files", strings.Join(c.Status.ObservedValuesFiles, ", ")},
			{"URL", c.Status.URL},
			{"Last Handled Reconcile", c.Status.LastHandledReconcileAt},
		}},
		artifact(c.Status.Artifact, age),
		conditions(c, age),
	}
}

// helmChartVerifyString says how a HelmChart verifies an OCI chart, as
// ociVerifyString does for an OCIRepository (which has one field more).
func helmChartVerifyString(v *sourcev1.HelmChartVerification) string {
	if v == nil {
		return ""
	}
	return ociVerifyString(&sourcev1.OCIRepositoryVerification{
		Provider: v.Provider, SecretRef: v.SecretRef, MatchOIDCIdentity: v.MatchOIDCIdentity,
	})
}
