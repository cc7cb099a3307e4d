package kinds

import (
	"fmt"
	"strconv"
	"strings"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// Bucket is the entry of source.toolkit.fluxcd.io Bucket: `flux <verb>
// source bucket`, `flux get sources bucket`, as Flux names it. A Bucket is
// a source of Kustomizations and HelmCharts (their SourceKinds name it),
// so `--with-source`, events and trace reach it through those kinds.
func Bucket() Kind {
	return Kind{
		GroupVersionKind: sourcev1.GroupVersion.WithKind(sourcev1.BucketKind),
		Resource:         "buckets",
		Command:          Command{Group: "source", Name: "bucket", Plural: "bucket", Noun: "Bucket source", Nouns: "Bucket sources"},
		New:              func() Object { return &sourcev1.Bucket{} },
		NewList:          func() List { return &sourcev1.BucketList{} },
		Items:            func(l List) []Object { return pointers(l.(*sourcev1.BucketList).Items) },
		Revision:         func(o Object) string { return artifactRevision(o.(*sourcev1.Bucket).Status.Artifact) },
		RevisionVerb:     "fetched",
		SetSuspend:       func(o Object, s bool) { o.(*sourcev1.Bucket).Spec.Suspend = s },
		Wide: []Column{
			{"INTERVAL", func(o Object) string { return o.(*sourcev1.Bucket).Spec.Interval.Duration.String() }},
			{"PROVIDER", func(o Object) string { return bucketProvider(o.(*sourcev1.Bucket)) }},
			{"ENDPOINT", func(o Object) string { return o.(*sourcev1.Bucket).Spec.Endpoint }},
			{"BUCKET", func(o Object) string { return bucketPath(o.(*sourcev1.Bucket)) }},
		},
		Sections: func(o Object, age Age) []Section { return bucketSections(o.(*sourcev1.Bucket), age) },
		Summary:  func(o Object) []Pair { return bucketSummary(o.(*sourcev1.Bucket)) },
		// As Flux's `export source bucket --with-credentials`: the Secret of
		// spec.secretRef (accesskey, secretkey), not the TLS or proxy ones.
		SecretRef: func(o Object) string { return localName(o.(*sourcev1.Bucket).Spec.SecretRef) },
		Examples: map[string]string{"reconcile": `  # List the Bucket podinfo now and fetch what changed
  flux reconcile source bucket podinfo`},
	}
}

// bucketProvider is spec.provider, generic when unset (the API's default,
// which an object read from a server always has).
func bucketProvider(b *sourcev1.Bucket) string {
	if b.Spec.Provider == "" {
		return sourcev1.BucketProviderGeneric
	}
	return b.Spec.Provider
}

// bucketPath is the bucket name with the key prefix the Bucket downloads
// (podinfo/apps/), the bucket alone without a prefix: what a person reads
// as "where the content is".
func bucketPath(b *sourcev1.Bucket) string {
	if b.Spec.Prefix == "" {
		return b.Spec.BucketName
	}
	return b.Spec.BucketName + "/" + b.Spec.Prefix
}

// bucketSummary is what a trace shows of a Bucket: where its content is.
// The trace's header already reads "Bucket: <object name>", so the bucket
// on the server is the Bucket Name, as in describe.
func bucketSummary(b *sourcev1.Bucket) []Pair {
	pairs := []Pair{{"Endpoint", b.Spec.Endpoint}, {"Bucket Name", b.Spec.BucketName}}
	if b.Spec.Prefix != "" {
		pairs = append(pairs, Pair{"Prefix", b.Spec.Prefix})
	}
	return pairs
}

// bucketSections are what describe shows of a Bucket: every spec field,
// the credentials by Secret name only, then its status and artifact.
func bucketSections(b *sourcev1.Bucket, age Age) []Section {
	s := b.Spec
	return []Section{
		{Title: "Spec", Pairs: []Pair{
			{"Provider", bucketProvider(b)},
			{"Endpoint", s.Endpoint},
			{"Bucket Name", s.BucketName},
			{"Prefix", s.Prefix},
			{"Region", s.Region},
			{"Insecure", strconv.FormatBool(s.Insecure)},
			{"Interval", s.Interval.Duration.String()},
			{"Timeout", durationString(s.Timeout)},
			{"Secret", localName(s.SecretRef)},
			{"Service Account", s.ServiceAccountName},
			{"Cert Secret", localName(s.CertSecretRef)},
			{"Proxy Secret", localName(s.ProxySecretRef)},
			{"STS", bucketSTSString(s.STS)},
			{"Suspend", strconv.FormatBool(s.Suspend)},
			{"Ignore", ignoreString(s.Ignore)},
		}},
		{Title: "Status", Pairs: []Pair{
			{"Observed Generation", fmt.Sprintf("%d (generation %d)", b.Status.ObservedGeneration, b.Generation)},
			{"URL", b.Status.URL},
			{"Observed Ignore", ignoreString(b.Status.ObservedIgnore)},
			{"Last Handled Reconcile", b.Status.LastHandledReconcileAt},
		}},
		artifact(b.Status.Artifact, age),
		conditions(b, age),
	}
}

// bucketSTSString says where a Bucket gets temporary credentials from:
// the STS provider and endpoint, and the Secrets it reads, "" for none.
func bucketSTSString(sts *sourcev1.BucketSTSSpec) string {
	if sts == nil {
		return ""
	}
	out := sts.Provider + " at " + sts.Endpoint
	if sts.SecretRef != nil {
		out += ", credentials from Secret " + sts.SecretRef.Name
	}
	if sts.CertSecretRef != nil {
		out += ", TLS from Secret " + sts.CertSecretRef.Name
	}
	return out
}

// ignoreString writes spec.ignore (or status.observedIgnore) on one line,
// its rules separated by commas, "" when unset.
func ignoreString(ignore *string) string {
	if ignore == nil {
		return ""
	}
	return strings.Join(strings.Split(strings.TrimSpace(*ignore), "\n"), ", ")
}
