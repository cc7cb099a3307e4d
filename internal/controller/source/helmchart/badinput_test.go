package helmchart_test

import (
	"strings"
	"testing"

	repo "helm.sh/helm/v4/pkg/repo/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/tartest"
)

// TestRepositoryBadInput turns a HelmChart that is Ready on a chart of an
// HTTP repository to each kind of bad chart: it is refused with Flux's
// reason and a message naming the chart, version or file, an event, and
// the previous artifact kept and served.
func TestRepositoryBadInput(t *testing.T) {
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	hr.MustPublish(t, helmtest.ConfigMapChart("tampered", "1.0.0"))
	hr.ReplaceArchive("tampered-1.0.0.tgz", helmtest.ConfigMapChart("tampered", "1.0.0").Values("message: evil\n").MustPackage(t))
	hr.MustPublish(t, helmtest.ConfigMapChart("big", "1.0.0").File("files/big.txt", strings.Repeat("x", maxChartFileSize+1)))
	publishRaw(t, hr, "escape", tartest.TarGz(t,
		tartest.Entry{Name: "escape/Chart.yaml", Content: "apiVersion: v2\nname: escape\nversion: 1.0.0\n"},
		tartest.Entry{Name: "escape/../../outside.yaml", Content: "x: 1\n"}))
	publishRaw(t, hr, "broken", tartest.TarGz(t,
		tartest.Entry{Name: "broken/Chart.yaml", Content: "apiVersion: v2\nname: [unclosed\n"}))
	// An index entry whose archive the server does not have.
	idx, err := hr.Index()
	if err != nil {
		t.Fatal(err)
	}
	gone := *idx.Entries["app"][0]
	md := *gone.Metadata
	md.Name = "gone"
	gone.Metadata, gone.URLs = &md, []string{"gone-1.0.0.tgz"}
	idx.Entries["gone"] = repo.ChartVersions{&gone}
	raw, err := yaml.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	hr.SetIndex(raw)

	ns := env.Namespace(t)
	readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})
	cases := []struct {
		name           string
		chart, version string
		reason, text   string
		stalled        bool
	}{
		{"chart-absent", "nope", "", sourcev1.InvalidChartReferenceReason, "no chart named 'nope' found", true},
		{"no-version-in-range", "app", "9.*", sourcev1.InvalidChartReferenceReason, "no 'app' chart with version matching '9.*' found", true},
		{"download-404", "gone", "", "ChartPullError", "gone-1.0.0.tgz", false},
		{"digest-mismatch", "tampered", "", "ChartPullError", "digest mismatch", false},
		{"over-limits", "big", "", "ChartPullError", "big.txt", false},
		{"path-traversal", "escape", "", "ChartPullError", "outside.yaml", false},
		{"broken-chart-yaml", "broken", "", "ChartPullError", "Chart.yaml", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := createChart(t, ns, tc.name, sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("charts")})
			kept := waitRevision(t, obj, "1.0.0").Status.Artifact
			controllertest.Update(t, kube, obj, func(o *sourcev1.HelmChart) { o.Spec.Chart, o.Spec.Version = tc.chart, tc.version })
			got := waitRefused(t, obj, tc.reason, tc.text, kept)
			t.Logf("Ready: %s", condition(got, "Ready").Message)
			checkCondition(t, got, sourcev1.FetchFailedCondition, metav1.ConditionTrue, tc.reason, tc.text)
			if s := condition(got, "Stalled"); tc.stalled != (s != nil && s.Status == metav1.ConditionTrue) {
				t.Errorf("Stalled %+v, want stalled %v", s, tc.stalled)
			}
			if tc.chart != "nope" && !strings.Contains(condition(got, "Ready").Message, tc.chart) {
				t.Errorf("message does not name the chart: %s", condition(got, "Ready").Message)
			}
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, tc.reason, tc.text)
		})
	}
}

// publishRaw adds an archive no packager writes under its own index entry.
func publishRaw(t *testing.T, hr *helmtest.Repository, name string, archive []byte) {
	t.Helper()
	if _, err := hr.PublishArchive(helmtest.NewChart(name, "1.0.0").Metadata(), archive); err != nil {
		t.Fatal(err)
	}
}

// TestCloudProviderStalls stalls on an OCI HelmRepository whose provider
// asks for cloud identity, which is not built, saying so.
func TestCloudProviderStalls(t *testing.T) {
	ns := env.Namespace(t)
	createRepo(t, ns, "ecr", sourcev1.HelmRepositorySpec{URL: "oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/charts",
		Type: sourcev1.HelmRepositoryTypeOCI, Provider: "aws"})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("ecr")})
	got := waitRefused(t, obj, sourcev1.InvalidProviderConfigurationReason, "spec.secretRef", nil)
	checkCondition(t, got, "Stalled", metav1.ConditionTrue, sourcev1.InvalidProviderConfigurationReason, "aws")
}

// TestUnsupportedVerificationStalls stalls on keyless cosign and notation,
// which are not built, saying what works instead.
func TestUnsupportedVerificationStalls(t *testing.T) {
	ns := env.Namespace(t)
	createRepo(t, ns, "oci", sourcev1.HelmRepositorySpec{URL: "oci://127.0.0.1:1/charts", Type: sourcev1.HelmRepositoryTypeOCI, Insecure: true})
	for _, tc := range []struct {
		name   string
		verify *sourcev1.HelmChartVerification
		text   string
	}{
		{"keyless", &sourcev1.HelmChartVerification{Provider: sourcev1.VerificationProviderCosign}, "keyless"},
		{"notation", &sourcev1.HelmChartVerification{Provider: sourcev1.VerificationProviderNotation, SecretRef: &meta.LocalObjectReference{Name: "x"}}, "notation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := createChart(t, ns, tc.name, sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("oci"), Verify: tc.verify})
			got := waitRefused(t, obj, sourcev1.VerificationErrorReason, tc.text, nil)
			checkCondition(t, got, "Stalled", metav1.ConditionTrue, sourcev1.VerificationErrorReason, "cosign sign --key")
		})
	}
}
