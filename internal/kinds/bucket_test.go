package kinds

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// TestBucketEntry: the command line names a Bucket as Flux does, every
// name a user may type finds it, and the kinds that read sources take it.
func TestBucketEntry(t *testing.T) {
	b := Bucket()
	if b.Command.Path() != "source bucket" || b.Command.GetPath() != "sources bucket" {
		t.Errorf("command paths %q, %q; want source bucket, sources bucket", b.Command.Path(), b.Command.GetPath())
	}
	for _, name := range []string{"Bucket", "bucket", "buckets"} {
		if k, ok := Lookup(name); !ok || k.Kind != sourcev1.BucketKind {
			t.Errorf("Lookup(%q) = %s, %v", name, k.Kind, ok)
		}
	}
	if k, ok := Of(&sourcev1.Bucket{}); !ok || k.Resource != "buckets" {
		t.Errorf("Of(*Bucket) = %+v, %v", k.GroupVersionKind, ok)
	}
	for _, reader := range []Kind{Kustomization(), HelmChart()} {
		found := false
		for _, s := range reader.SourceKinds {
			found = found || s == sourcev1.BucketKind
		}
		if !found {
			t.Errorf("%s does not take a Bucket source: %v", reader.Kind, reader.SourceKinds)
		}
	}
	// A Kustomization reading a Bucket has it as its source and related object.
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "apps"},
		Spec: kustomizev1.KustomizationSpec{SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.BucketKind, Name: "podinfo"}}}
	want := Ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "Bucket", Namespace: "apps", Name: "podinfo"}
	if got := Kustomization().Source(ks); got != want {
		t.Errorf("Source of a Kustomization reading a Bucket = %+v, want %+v", got, want)
	}
	// Reconcile, suspend and resume are offered, as for every source.
	bucket := &sourcev1.Bucket{}
	var names []string
	for _, a := range b.Actions(bucket) {
		names = append(names, a.Name)
	}
	if len(names) == 0 || names[0] != ActionReconcile.Name {
		t.Errorf("actions of a Bucket: %v", names)
	}
	b.SetSuspend(bucket, true)
	if !b.IsSuspended(bucket) || len(b.Actions(bucket)) != 1 || b.Actions(bucket)[0].Name != ActionResume.Name {
		t.Errorf("a suspended Bucket: suspended=%v actions=%v", b.IsSuspended(bucket), b.Actions(bucket))
	}
}

// TestBucketDescribe checks the sections of a full Bucket: every spec
// field is shown, credentials by Secret name only, and the wide columns
// and trace name the endpoint and the bucket with its prefix.
func TestBucketDescribe(t *testing.T) {
	ignore := "/docs\n*.md\n"
	timeout := metav1.Duration{Duration: 90 * time.Second}
	size := int64(2048)
	b := &sourcev1.Bucket{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Generation: 2},
		Spec: sourcev1.BucketSpec{
			Provider: "aws", BucketName: "podinfo", Endpoint: "s3.amazonaws.com", Region: "eu-west-1", Prefix: "apps/",
			Insecure: true, Interval: metav1.Duration{Duration: 5 * time.Minute}, Timeout: &timeout,
			SecretRef: &meta.LocalObjectReference{Name: "bucket-podinfo"}, ProxySecretRef: &meta.LocalObjectReference{Name: "proxy"},
			CertSecretRef: &meta.LocalObjectReference{Name: "tls"},
			STS: &sourcev1.BucketSTSSpec{Provider: "ldap", Endpoint: "https://sts.example.com",
				SecretRef: &meta.LocalObjectReference{Name: "ldap"}, CertSecretRef: &meta.LocalObjectReference{Name: "sts-tls"}},
			Ignore: &ignore,
		},
		Status: sourcev1.BucketStatus{
			ObservedGeneration: 2, URL: "http://storage/bucket/apps/podinfo/latest.tar.gz", ObservedIgnore: &ignore,
			Artifact: &meta.Artifact{Revision: "sha256:ab", Digest: "sha256:cd", Size: &size},
		},
	}
	values := map[string]string{}
	for _, s := range Describe(Bucket(), b, func(time.Time) string { return "1s" }) {
		for _, p := range s.Pairs {
			values[s.Title+"/"+p.Key] = p.Value
		}
	}
	for key, want := range map[string]string{
		"Spec/Provider":              "aws",
		"Spec/Endpoint":              "s3.amazonaws.com",
		"Spec/Bucket Name":           "podinfo",
		"Spec/Prefix":                "apps/",
		"Spec/Region":                "eu-west-1",
		"Spec/Insecure":              "true",
		"Spec/Interval":              "5m0s",
		"Spec/Timeout":               "1m30s",
		"Spec/Secret":                "bucket-podinfo",
		"Spec/Cert Secret":           "tls",
		"Spec/Proxy Secret":          "proxy",
		"Spec/STS":                   "ldap at https://sts.example.com, credentials from Secret ldap, TLS from Secret sts-tls",
		"Spec/Ignore":                "/docs, *.md",
		"Status/Observed Generation": "2 (generation 2)",
		"Status/URL":                 "http://storage/bucket/apps/podinfo/latest.tar.gz",
		"Status/Observed Ignore":     "/docs, *.md",
		"Artifact/Revision":          "sha256:ab",
		"Artifact/Size":              "2048 bytes",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	wide := map[string]string{}
	for _, c := range Bucket().Wide {
		wide[c.Header] = c.Value(b)
	}
	if wide["INTERVAL"] != "5m0s" || wide["PROVIDER"] != "aws" || wide["ENDPOINT"] != "s3.amazonaws.com" || wide["BUCKET"] != "podinfo/apps/" {
		t.Errorf("wide columns %v", wide)
	}
	summary := map[string]string{}
	for _, p := range Bucket().Summary(b) {
		summary[p.Key] = p.Value
	}
	if summary["Endpoint"] != "s3.amazonaws.com" || summary["Bucket Name"] != "podinfo" || summary["Prefix"] != "apps/" {
		t.Errorf("trace summary %v", summary)
	}
	if got := Bucket().SecretRef(b); got != "bucket-podinfo" {
		t.Errorf("SecretRef = %q, want bucket-podinfo", got)
	}
	if got := Bucket().RevisionOf(b); got != "sha256:ab" {
		t.Errorf("RevisionOf = %q", got)
	}
	// Unset provider reads as the API's default; no STS reads as nothing.
	b.Spec.Provider, b.Spec.STS = "", nil
	if got := bucketProvider(b); got != "generic" {
		t.Errorf("provider of an unset spec.provider = %q, want generic", got)
	}
	if got := bucketSTSString(nil); got != "" {
		t.Errorf("STS of none = %q", got)
	}
}
