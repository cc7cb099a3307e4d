package kinds

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// The OCI annotations of a pulled artifact (status.artifact.metadata) that
// say where its content came from; Flux's trace shows them as the origin.
const (
	ociSourceAnnotation   = "org.opencontainers.image.source"
	ociRevisionAnnotation = "org.opencontainers.image.revision"
)

// OCIRepository is the entry of source.toolkit.fluxcd.io OCIRepository:
// `flux <verb> source oci`, `flux get sources oci`, as Flux names it.
func OCIRepository() Kind {
	return Kind{
		GroupVersionKind: sourcev1.GroupVersion.WithKind(sourcev1.OCIRepositoryKind),
		Resource:         "ocirepositories",
		Command:          Command{Group: "source", Name: "oci", Plural: "oci", Noun: "OCIRepository source", Nouns: "OCIRepository sources"},
		New:              func() Object { return &sourcev1.OCIRepository{} },
		NewList:          func() List { return &sourcev1.OCIRepositoryList{} },
		Items:            func(l List) []Object { return pointers(l.(*sourcev1.OCIRepositoryList).Items) },
		Revision:         func(o Object) string { return artifactRevision(o.(*sourcev1.OCIRepository).Status.Artifact) },
		RevisionVerb:     "fetched",
		SetSuspend:       func(o Object, s bool) { o.(*sourcev1.OCIRepository).Spec.Suspend = s },
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*sourcev1.OCIRepository).Spec.Interval.Duration.String() }},
			{"REF", func(o Object) string { return ociRef(o.(*sourcev1.OCIRepository).Spec.Reference) }},
			{"URL", func(o Object) string { return o.(*sourcev1.OCIRepository).Spec.URL }},
		},
		Sections: func(o Object, age Age) []Section { return ociRepositorySections(o.(*sourcev1.OCIRepository), age) },
		Summary:  func(o Object) []Pair { return ociRepositorySummary(o.(*sourcev1.OCIRepository)) },
		// As Flux's `export source oci --with-credentials`: the pull Secret
		// of spec.secretRef only, not the TLS, proxy or verification ones.
		SecretRef: func(o Object) string {
			if ref := o.(*sourcev1.OCIRepository).Spec.SecretRef; ref != nil {
				return ref.Name
			}
			return ""
		},
		Examples: map[string]string{"reconcile": `  # Check the registry for a new artifact of the OCIRepository podinfo now
  flux reconcile source oci podinfo`},
	}
}

// ociRef renders an OCIRepository reference the way the flags of `flux
// create source oci` select it, in the controller's order: a digest wins
// over a semver range, a range over a tag, and no reference is the tag
// latest.
func ociRef(r *sourcev1.OCIRepositoryRef) string {
	switch {
	case r == nil:
		return "tag:latest"
	case r.Digest != "":
		return "digest:" + r.Digest
	case r.SemVer != "":
		return "semver:" + r.SemVer
	case r.Tag != "":
		return "tag:" + r.Tag
	}
	return "tag:latest"
}

// ociRepositorySummary is what a trace shows of an OCIRepository: its URL
// and reference, and, once an artifact is pulled, where its content came
// from (the source and revision annotations `flux push artifact` writes).
func ociRepositorySummary(o *sourcev1.OCIRepository) []Pair {
	pairs := []Pair{{"URL", o.Spec.URL}, {"Ref", ociRef(o.Spec.Reference)}}
	if a := o.Status.Artifact; a != nil {
		if v := a.Metadata[ociSourceAnnotation]; v != "" {
			pairs = append(pairs, Pair{"Origin Source", v})
		}
		if v := a.Metadata[ociRevisionAnnotation]; v != "" {
			pairs = append(pairs, Pair{"Origin Revision", v})
		}
	}
	return pairs
}

func ociRepositorySections(o *sourcev1.OCIRepository, age Age) []Section {
	s := o.Spec
	semverFilter := ""
	if s.Reference != nil && s.Reference.SemVer != "" && s.Reference.Digest == "" {
		semverFilter = s.Reference.SemverFilter
	}
	ignore := ""
	if s.Ignore != nil {
		ignore = strings.Join(strings.Split(strings.TrimSpace(*s.Ignore), "\n"), ", ")
	}
	observedIgnore := ""
	if o.Status.ObservedIgnore != nil {
		observedIgnore = strings.Join(strings.Split(strings.TrimSpace(*o.Status.ObservedIgnore), "\n"), ", ")
	}
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"URL", s.URL},
			{"Ref", ociRef(s.Reference)},
			{"Semver Filter", semverFilter},
			{"Layer Selector", layerSelectorString(s.LayerSelector)},
			{"Interval", s.Interval.Duration.String()},
			{"Timeout", durationString(s.Timeout)},
			{"Provider", s.Provider},
			{"Secret", localName(s.SecretRef)},
			{"Service Account", s.ServiceAccountName},
			{"Cert Secret", localName(s.CertSecretRef)},
			{"Proxy Secret", localName(s.ProxySecretRef)},
			{"Insecure", strconv.FormatBool(s.Insecure)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
			{"Ignore", ignore},
			{"Verify", ociVerifyString(s.Verify)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", o.Status.ObservedGeneration, o.Generation)},
			{"URL", o.Status.URL},
			{"Observed Layer Selector", observedLayerSelector(o.Status.ObservedLayerSelector)},
			{"Observed Ignore", observedIgnore},
			{"Last Handled Reconcile", o.Status.LastHandledReconcileAt},
		}},
		artifact(o.Status.Artifact, age),
		conditions(o, age),
	}
}

// layerSelectorString writes spec.layerSelector as the value of `flux
// create source oci --layer-selector`, <media type>:<operation>; without a
// selector the first layer is extracted.
func layerSelectorString(l *sourcev1.OCILayerSelector) string {
	if l == nil {
		return "first layer, extract"
	}
	op := l.Operation
	if op == "" {
		op = sourcev1.OCILayerExtract
	}
	if l.MediaType == "" {
		return "first layer, " + op
	}
	return l.MediaType + ":" + op
}

// observedLayerSelector is status.observedLayerSelector, "" before the
// first artifact.
func observedLayerSelector(l *sourcev1.OCILayerSelector) string {
	if l == nil {
		return ""
	}
	return layerSelectorString(l)
}

// ociVerifyString says how an OCIRepository verifies what it pulls: with
// the keys of a Secret, or keyless with the identities it accepts.
func ociVerifyString(v *sourcev1.OCIRepositoryVerification) string {
	if v == nil {
		return ""
	}
	provider := v.Provider
	if provider == "" {
		provider = sourcev1.VerificationProviderCosign
	}
	var parts []string
	if v.SecretRef != nil {
		parts = append(parts, "keys from Secret "+v.SecretRef.Name)
	} else {
		parts = append(parts, "keyless")
	}
	for _, id := range v.MatchOIDCIdentity {
		parts = append(parts, fmt.Sprintf("issuer %s, subject %s", id.Issuer, id.Subject))
	}
	if v.TrustedRootSecretRef != nil {
		parts = append(parts, "trusted root from Secret "+v.TrustedRootSecretRef.Name)
	}
	return provider + " (" + strings.Join(parts, "; ") + ")"
}

// localName is the name a local reference names, "" for none.
func localName(ref *meta.LocalObjectReference) string {
	if ref == nil {
		return ""
	}
	return ref.Name
}
