package kinds

import (
	"fmt"
	"strconv"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// helmRepositoryStaticMessage is what Flux's CLI shows as the Ready message
// of a HelmRepository of type oci, which has no status to read.
const helmRepositoryStaticMessage = "Helm repository is Ready"

// HelmRepository is the entry of source.toolkit.fluxcd.io HelmRepository:
// `flux <verb> source helm`, `flux get sources helm`, as Flux names it. One
// of type oci is static (Flux 2.2 on): the controller leaves it without a
// status, and HelmCharts pull from the registry it names.
func HelmRepository() Kind {
	return Kind{
		GroupVersionKind: sourcev1.GroupVersion.WithKind(sourcev1.HelmRepositoryKind),
		Resource:         "helmrepositories",
		Command:          Command{Group: "source", Name: "helm", Plural: "helm", Noun: "HelmRepository source", Nouns: "HelmRepository sources"},
		New:              func() Object { return &sourcev1.HelmRepository{} },
		NewList:          func() List { return &sourcev1.HelmRepositoryList{} },
		Items:            func(l List) []Object { return pointers(l.(*sourcev1.HelmRepositoryList).Items) },
		Revision:         func(o Object) string { return artifactRevision(o.(*sourcev1.HelmRepository).Status.Artifact) },
		RevisionVerb:     "fetched",
		SetSuspend:       func(o Object, s bool) { o.(*sourcev1.HelmRepository).Spec.Suspend = s },
		Static: func(o Object) string {
			if o.(*sourcev1.HelmRepository).Spec.Type == sourcev1.HelmRepositoryTypeOCI {
				return helmRepositoryStaticMessage
			}
			return ""
		},
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return helmRepositoryInterval(o.(*sourcev1.HelmRepository)) }},
			{"TYPE", func(o Object) string { return helmRepositoryType(o.(*sourcev1.HelmRepository)) }},
			{"URL", func(o Object) string { return o.(*sourcev1.HelmRepository).Spec.URL }},
		},
		Sections: func(o Object, age Age) []Section {
			return helmRepositorySections(o.(*sourcev1.HelmRepository), age)
		},
		Summary: func(o Object) []Pair {
			h := o.(*sourcev1.HelmRepository)
			return []Pair{{"URL", h.Spec.URL}, {"Type", helmRepositoryType(h)}}
		},
		// As Flux's `export source helm --with-credentials`: the Secret of
		// spec.secretRef (basic auth, or TLS keys the old way), not certSecretRef.
		SecretRef: func(o Object) string { return localName(o.(*sourcev1.HelmRepository).Spec.SecretRef) },
		Examples: map[string]string{"reconcile": `  # Fetch the index of the HelmRepository podinfo now
  flux reconcile source helm podinfo`},
	}
}

// helmRepositoryType is spec.type with the API's default, default.
func helmRepositoryType(h *sourcev1.HelmRepository) string {
	if h.Spec.Type == "" {
		return sourcev1.HelmRepositoryTypeDefault
	}
	return h.Spec.Type
}

// helmRepositoryInterval is spec.interval, "" when unset (optional since
// type oci has none).
func helmRepositoryInterval(h *sourcev1.HelmRepository) string {
	if h.Spec.Interval.Duration == 0 {
		return ""
	}
	return h.Spec.Interval.Duration.String()
}

func helmRepositorySections(h *sourcev1.HelmRepository, age Age) []Section {
	s := h.Spec
	provider := ""
	if s.Type == sourcev1.HelmRepositoryTypeOCI {
		provider = s.Provider
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"URL", s.URL},
			{"Type", helmRepositoryType(h)},
			{"Provider", provider},
			{"Interval", helmRepositoryInterval(h)},
			{"Timeout", durationString(s.Timeout)},
			{"Secret", localName(s.SecretRef)},
			{"Cert Secret", localName(s.CertSecretRef)},
			{"Pass Credentials", strconv.FormatBool(s.PassCredentials)},
			{"Insecure", strconv.FormatBool(s.Insecure)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", h.Status.ObservedGeneration, h.Generation)},
			{"URL", h.Status.URL},
			{"Last Handled Reconcile", h.Status.LastHandledReconcileAt},
		}},
		artifact(h.Status.Artifact, age),
		conditions(h, age),
	}
}
