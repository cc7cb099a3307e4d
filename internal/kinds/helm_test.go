package kinds

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// describeValues is the "Section/Key" -> value map of a description.
func describeValues(k Kind, obj meta.Object) map[string]string {
	values := map[string]string{}
	for _, s := range Describe(k, obj, func(time.Time) string { return "1s" }) {
		for _, p := range s.Pairs {
			values[s.Title+"/"+p.Key] = p.Value
		}
	}
	return values
}

func TestHelmEntries(t *testing.T) {
	for _, tc := range []struct {
		k                   Kind
		kind, path, getPath string
		names               []string
	}{
		{HelmRepository(), sourcev1.HelmRepositoryKind, "source helm", "sources helm", []string{"HelmRepository", "helmrepositories"}},
		{HelmChart(), sourcev1.HelmChartKind, "source chart", "sources chart", []string{"helmchart", "helmcharts"}},
	} {
		if tc.k.Command.Path() != tc.path || tc.k.Command.GetPath() != tc.getPath {
			t.Errorf("%s: command paths %q, %q; want %q, %q", tc.kind, tc.k.Command.Path(), tc.k.Command.GetPath(), tc.path, tc.getPath)
		}
		for _, name := range tc.names {
			if k, ok := Lookup(name); !ok || k.Kind != tc.kind {
				t.Errorf("Lookup(%q) = %s, %v; want %s", name, k.Kind, ok, tc.kind)
			}
		}
	}
}

// TestHelmRepositoryStatic: a HelmRepository of type oci is static (no
// status; Flux's CLI shows it Ready with its own message); one of the
// default type, and every other kind's object, is not.
func TestHelmRepositoryStatic(t *testing.T) {
	oci := &sourcev1.HelmRepository{Spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts", Type: sourcev1.HelmRepositoryTypeOCI}}
	http := &sourcev1.HelmRepository{Spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.com"}}
	if got := StaticMessage(oci); got != "Helm repository is Ready" {
		t.Errorf("StaticMessage(type oci) = %q", got)
	}
	for _, obj := range []meta.Object{http, &sourcev1.GitRepository{}, &sourcev1.HelmChart{}} {
		if got := StaticMessage(obj); got != "" {
			t.Errorf("StaticMessage(%T) = %q, want none", obj, got)
		}
	}
}

func TestHelmRepositoryDescribe(t *testing.T) {
	timeout := metav1.Duration{Duration: 90 * time.Second}
	h := &sourcev1.HelmRepository{
		Spec: sourcev1.HelmRepositorySpec{
			URL: "https://charts.example.com", Interval: metav1.Duration{Duration: 10 * time.Minute}, Timeout: &timeout,
			SecretRef: &meta.LocalObjectReference{Name: "auth"}, CertSecretRef: &meta.LocalObjectReference{Name: "tls"},
			PassCredentials: true, Provider: "generic",
		},
		Status: sourcev1.HelmRepositoryStatus{
			URL:      "http://storage/helmrepository/apps/charts/index.yaml",
			Artifact: &meta.Artifact{Revision: "sha256:ab", Digest: "sha256:ab"},
		},
	}
	values := describeValues(HelmRepository(), h)
	for key, want := range map[string]string{
		"Spec/URL": h.Spec.URL, "Spec/Type": "default", "Spec/Provider": "", "Spec/Interval": "10m0s", "Spec/Timeout": "1m30s",
		"Spec/Secret": "auth", "Spec/Cert Secret": "tls", "Spec/Pass Credentials": "true",
		"Status/URL": h.Status.URL, "Artifact/Revision": "sha256:ab",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	if got := HelmRepository().SecretRef(h); got != "auth" {
		t.Errorf("SecretRef = %q, want auth", got)
	}
	oci := &sourcev1.HelmRepository{Spec: sourcev1.HelmRepositorySpec{URL: "oci://ghcr.io/org/charts", Type: "oci", Provider: "aws"}}
	values = describeValues(HelmRepository(), oci)
	if values["Spec/Type"] != "oci" || values["Spec/Provider"] != "aws" || values["Spec/Interval"] != "" {
		t.Errorf("type oci: %v", values)
	}
}

func TestHelmChartEntry(t *testing.T) {
	c := &sourcev1.HelmChart{
		Spec: sourcev1.HelmChartSpec{
			Chart: "podinfo", Version: "6.x", Interval: metav1.Duration{Duration: 5 * time.Minute},
			SourceRef:   sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "podinfo"},
			ValuesFiles: []string{"values.yaml", "values-prod.yaml"},
			Verify:      &sourcev1.HelmChartVerification{Provider: "cosign", SecretRef: &meta.LocalObjectReference{Name: "cosign-pub"}},
		},
		Status: sourcev1.HelmChartStatus{ObservedChartName: "podinfo", ObservedSourceArtifactRevision: "sha256:ef",
			Artifact: &meta.Artifact{Revision: "6.1.0"}},
	}
	c.Namespace = "apps"
	k := HelmChart()
	if ref := k.Source(c); ref != (Ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "HelmRepository", Namespace: "apps", Name: "podinfo"}) {
		t.Errorf("Source = %+v", ref)
	}
	values := describeValues(k, c)
	for key, want := range map[string]string{
		"Spec/Chart": "podinfo", "Spec/Version": "6.x", "Spec/Source": "HelmRepository/podinfo",
		"Spec/Reconcile Strategy": "ChartVersion", "Spec/Values Files": "values.yaml, values-prod.yaml",
		"Spec/Verify":                     "cosign (keys from Secret cosign-pub)",
		"Status/Observed Source Revision": "sha256:ef", "Artifact/Revision": "6.1.0",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	if got := k.Revision(c); got != "6.1.0" {
		t.Errorf("Revision = %q", got)
	}
	// The version of a chart from Git is Chart.yaml's, whatever spec.version says.
	c.Spec.SourceRef.Kind, c.Spec.Version = sourcev1.GitRepositoryKind, ""
	if got := describeValues(k, c)["Spec/Version"]; got != "from Chart.yaml" {
		t.Errorf("version of a chart from Git = %q", got)
	}
}
