package kinds

import (
	"reflect"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

func TestHelmReleaseEntry(t *testing.T) {
	k := HelmRelease()
	if k.Command.Path() != "helmrelease" || k.Command.GetPath() != "helmreleases" {
		t.Errorf("command paths %q, %q", k.Command.Path(), k.Command.GetPath())
	}
	for _, name := range []string{"hr", "HelmRelease", "helmreleases"} {
		if got, ok := Lookup(name); !ok || got.Kind != helmv2.HelmReleaseKind {
			t.Errorf("Lookup(%q) = %s, %v", name, got.Kind, ok)
		}
	}
	all := All()
	if i := slices.IndexFunc(all, func(k Kind) bool { return k.Kind == helmv2.HelmReleaseKind }); i < 1 || all[i-1].Kind != "Kustomization" {
		t.Errorf("HelmRelease does not follow Kustomization in the catalogue (as Flux's get all)")
	}
}

// TestHelmReleaseRevision: REVISION is the chart version of the newest
// history entry, or lastAttemptedRevision before any release, as Flux.
func TestHelmReleaseRevision(t *testing.T) {
	hr := &helmv2.HelmRelease{}
	hr.Status.LastAttemptedRevision = "6.1.0"
	if got := HelmRelease().Revision(hr); got != "6.1.0" {
		t.Errorf("without history: %q, want 6.1.0", got)
	}
	hr.Status.History = []helmv2.Snapshot{{ChartVersion: "6.0.0", Version: 2}, {ChartVersion: "5.0.0", Version: 1}}
	if got := HelmRelease().Revision(hr); got != "6.0.0" {
		t.Errorf("with history: %q, want 6.0.0 (history[0])", got)
	}
}

func TestHelmReleaseSourceAndRelated(t *testing.T) {
	chartHR := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "apps"},
		Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
			Chart: "podinfo", SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "repo", Namespace: "flux-system"}}}}}
	src := Ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "HelmRepository", Namespace: "flux-system", Name: "repo"}
	chart := Ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "HelmChart", Namespace: "flux-system", Name: "apps-podinfo"}
	if got := HelmRelease().Source(chartHR); got != src {
		t.Errorf("Source = %+v, want %+v", got, src)
	}
	if got := HelmRelease().Related(chartHR); !reflect.DeepEqual(got, []Ref{src, chart}) {
		t.Errorf("Related before status.helmChart = %+v", got)
	}
	chartHR.Status.HelmChart = "other/chart"
	if got, _ := HelmReleaseChart(chartHR); got.Namespace != "other" || got.Name != "chart" {
		t.Errorf("HelmReleaseChart does not follow status.helmChart: %+v", got)
	}

	ociHR := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "apps"},
		Spec: helmv2.HelmReleaseSpec{ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "podinfo"}}}
	oci := Ref{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "OCIRepository", Namespace: "apps", Name: "podinfo"}
	if got := HelmRelease().Related(ociHR); !reflect.DeepEqual(got, []Ref{oci}) {
		t.Errorf("Related of an OCIRepository chartRef = %+v", got)
	}
	if _, ok := HelmReleaseChart(ociHR); ok {
		t.Errorf("an OCIRepository chartRef has no HelmChart")
	}
	ociHR.Spec.ChartRef.Kind = sourcev1.HelmChartKind
	if got, ok := HelmReleaseChart(ociHR); !ok || got.Kind != "HelmChart" || got.Name != "podinfo" {
		t.Errorf("a HelmChart chartRef is the chart: %+v %v", got, ok)
	}
}

func TestHelmReleaseDescribe(t *testing.T) {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "apps", Generation: 2},
		Spec: helmv2.HelmReleaseSpec{TargetNamespace: "web", Interval: metav1.Duration{Duration: 600e9},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "podinfo", Version: "6.x",
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "repo"}}},
			Upgrade: &helmv2.Upgrade{CRDs: helmv2.CreateReplace}},
		Status: helmv2.HelmReleaseStatus{ObservedGeneration: 2,
			History:   []helmv2.Snapshot{{Version: 1, Status: "deployed", ChartName: "podinfo", ChartVersion: "6.5.0", Action: "install"}},
			Inventory: &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{{ID: "web_web-podinfo_apps_Deployment", Version: "v1"}}}},
	}
	v := describeValues(HelmRelease(), hr)
	for key, want := range map[string]string{
		"Spec/Chart":                 "podinfo@6.x",
		"Spec/Source":                "HelmRepository/apps/repo",
		"Spec/Release":               "web/web-podinfo",
		"Spec/Storage Namespace":     "apps",
		"Spec/Install CRDs":          "Create",
		"Spec/Upgrade CRDs":          "CreateReplace",
		"Status/Observed Generation": "2 (generation 2)",
	} {
		if v[key] != want {
			t.Errorf("%s = %q, want %q", key, v[key], want)
		}
	}
	for _, s := range Describe(HelmRelease(), hr, func(time.Time) string { return "1s" }) {
		switch s.Title {
		case "History":
			if len(s.Table.Rows) != 1 || s.Table.Rows[0][2] != "podinfo@6.5.0" {
				t.Errorf("History = %+v", s.Table.Rows)
			}
		case "Inventory":
			if !reflect.DeepEqual(s.List, []string{"Deployment/web/web-podinfo"}) {
				t.Errorf("Inventory = %v", s.List)
			}
		}
	}
}
