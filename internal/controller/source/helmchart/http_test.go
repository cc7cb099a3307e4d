package helmchart_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestVersionRanges resolves spec.version over one repository's index:
// exact versions, wildcards, tilde and comparison ranges, and pre-releases
// only when the range names one. The chart is stored as downloaded.
func TestVersionRanges(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	archives := map[string][]byte{}
	for _, v := range []string{"0.9.0", "1.0.0", "1.1.0", "1.1.5", "1.2.0", "2.0.0", "2.1.0-rc.1"} {
		c := helmtest.ConfigMapChart("app", v)
		hr.MustPublish(t, c)
		archives[v] = c.MustPackage(t)
	}
	readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})

	cases := []struct{ name, rng, want string }{
		{"exact", "1.1.0", "1.1.0"},
		{"x-range", "1.x", "1.2.0"},
		{"tilde", "~1.1", "1.1.5"},
		{"comparison", ">=1.0.0 <2.0.0", "1.2.0"},
		{"star", "*", "2.0.0"},
		{"default", "", "2.0.0"},
		{"pre-release-named", ">=2.1.0-0", "2.1.0-rc.1"},
		{"exact-pre-release", "2.1.0-rc.1", "2.1.0-rc.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := createChart(t, ns, tc.name, sourcev1.HelmChartSpec{Chart: "app", Version: tc.rng, SourceRef: fromRepo("charts")})
			got := waitRevision(t, obj, tc.want)
			a := got.Status.Artifact
			if want := fmt.Sprintf("helmchart/%s/%s/app-%s.tgz", ns, tc.name, tc.want); a.Path != want {
				t.Errorf("artifact path %s, want %s", a.Path, want)
			}
			if a.Digest != digest(archives[tc.want]) {
				t.Errorf("artifact digest %s, want the published archive's %s", a.Digest, digest(archives[tc.want]))
			}
			if !strings.HasSuffix(got.Status.URL, fmt.Sprintf("/helmchart/%s/%s/latest.tar.gz", ns, tc.name)) {
				t.Errorf("status.url %s", got.Status.URL)
			}
			if _, d := download(t, got.Status.URL); d != a.Digest {
				t.Errorf("latest.tar.gz digest %s, want %s", d, a.Digest)
			}
			msg := fmt.Sprintf("pulled 'app' chart with version '%s'", tc.want)
			checkCondition(t, got, "Ready", metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, msg)
			checkCondition(t, got, sourcev1.ArtifactInStorageCondition, metav1.ConditionTrue, sourcev1.ChartPullSucceededReason, msg)
			if got.Status.ObservedChartName != "app" || got.Status.ObservedSourceArtifactRevision == "" {
				t.Errorf("observed chart %q source revision %q", got.Status.ObservedChartName, got.Status.ObservedSourceArtifactRevision)
			}
		})
	}
}

// TestNewVersionThroughTheRepository publishes a version: reconciling the
// HelmRepository (as `flux reconcile source helm` does) gives the new chart
// at once, though the HelmChart's interval is an hour.
func TestNewVersionThroughTheRepository(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	repo := readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", Version: "1.x", SourceRef: fromRepo("charts")})
	waitRevision(t, obj, "1.0.0")

	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.1.0"))
	reconcileNow(t, repo, "published")
	got := waitRevision(t, obj, "1.1.0")
	controllertest.WaitEvent(t, env.Kube, got, "Normal", sourcev1.ChartPullSucceededReason, "pulled 'app' chart with version '1.1.0'")
}

// TestValuesFiles merges values files in order over the chart's, packages
// the chart again at `<version>+<generation>`, follows a new generation,
// leaves out missing files with ignoreMissingValuesFiles and refuses them
// without, keeping the previous artifact.
func TestValuesFiles(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0").
		File("values-prod.yaml", "message: prod\nextra: yes\n").
		File("values-eu.yaml", "message: eu\n"))
	readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})

	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("charts"),
		ValuesFiles: []string{"values.yaml", "values-prod.yaml", "values-eu.yaml"}})
	got := waitRevision(t, obj, "1.0.0+1")
	if got.Status.Artifact.Path != fmt.Sprintf("helmchart/%s/app/app-1.0.0+1.tgz", ns) {
		t.Errorf("artifact path %s", got.Status.Artifact.Path)
	}
	checkCondition(t, got, "Ready", metav1.ConditionTrue, sourcev1.ChartPackageSucceededReason,
		"packaged 'app' chart with version '1.0.0+1' and merged values files [values.yaml values-prod.yaml values-eu.yaml]")
	data, _ := download(t, got.Status.Artifact.URL)
	files := chartFiles(t, data)
	var values map[string]any
	if err := yaml.Unmarshal([]byte(files["app/values.yaml"]), &values); err != nil {
		t.Fatal(err)
	}
	if values["message"] != "eu" || values["extra"] != true || values["replicaCount"] != float64(1) {
		t.Errorf("merged values %v", values)
	}
	if !strings.Contains(files["app/Chart.yaml"], "version: 1.0.0+1") {
		t.Errorf("Chart.yaml of the packaged chart:\n%s", files["app/Chart.yaml"])
	}
	if fmt.Sprint(got.Status.ObservedValuesFiles) != "[values.yaml values-prod.yaml values-eu.yaml]" {
		t.Errorf("observedValuesFiles %v", got.Status.ObservedValuesFiles)
	}

	controllertest.Update(t, kube, obj, func(o *sourcev1.HelmChart) {
		o.Spec.ValuesFiles = []string{"values-prod.yaml", "values-missing.yaml"}
		o.Spec.IgnoreMissingValuesFiles = true
	})
	got = waitRevision(t, obj, "1.0.0+2")
	if fmt.Sprint(got.Status.ObservedValuesFiles) != "[values-prod.yaml]" {
		t.Errorf("observedValuesFiles %v, want the missing file left out", got.Status.ObservedValuesFiles)
	}
	kept := got.Status.Artifact

	controllertest.Update(t, kube, obj, func(o *sourcev1.HelmChart) { o.Spec.IgnoreMissingValuesFiles = false })
	got = waitRefused(t, obj, "ValuesFilesError", "values-missing.yaml", kept)
	checkCondition(t, got, sourcev1.BuildFailedCondition, metav1.ConditionTrue, "ValuesFilesError", "values-missing.yaml")
	checkCondition(t, got, "Stalled", metav1.ConditionTrue, "ValuesFilesError", "values-missing.yaml")
}

// TestHelmCLIAcceptsTheChart checks that the stored chart is a real one:
// the helm CLI shows it from its URL and renders it from the file.
func TestHelmCLIAcceptsTheChart(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0").File("values-prod.yaml", "message: from-prod\n"))
	readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("charts"), ValuesFiles: []string{"values-prod.yaml"}})
	got := waitRevision(t, obj, "1.0.0+1")

	cli := helmtest.NewCLI(t)
	if out := cli.Run(t, "show", "chart", got.Status.Artifact.URL); !strings.Contains(out, "name: app") || !strings.Contains(out, "version: 1.0.0+1") {
		t.Errorf("helm show chart:\n%s", out)
	}
	data, _ := download(t, got.Status.URL)
	file := writeTemp(t, "app.tgz", data)
	if out := cli.Run(t, "template", "rel", file); !strings.Contains(out, "from-prod") || !strings.Contains(out, "kind: ConfigMap") {
		t.Errorf("helm template:\n%s", out)
	}
}

// TestCacheParsesTheIndexOncePerRevision runs 50 HelmCharts on one
// repository: the shared cache serves its index to all of them, parsed at
// most once per index revision, as gotk_cache_events_total counts.
func TestCacheParsesTheIndexOncePerRevision(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	repo := readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})
	const n = 50
	var charts []*sourcev1.HelmChart
	for i := 0; i < n; i++ {
		charts = append(charts, createChart(t, ns, fmt.Sprintf("app-%02d", i), sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("charts")}))
	}
	for _, c := range charts {
		waitRevision(t, c, "1.0.0")
	}
	hits, misses := cacheEvents(t, ns)
	if misses > 1 || hits+misses < n {
		t.Fatalf("first revision: %v hits and %v misses for %d HelmCharts, want one parse at most", hits, misses, n)
	}

	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.1.0"))
	reconcileNow(t, repo, "published")
	for _, c := range charts {
		waitRevision(t, c, "1.1.0")
	}
	hits2, misses2 := cacheEvents(t, ns)
	if misses2-misses > 1 || hits2+misses2-hits-misses < n {
		t.Fatalf("second revision: %v hits and %v misses more, want one parse at most", hits2-hits, misses2-misses)
	}
}

func key(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }

// TestNoVersionInRangeUntilPublished stalls on a range no version matches,
// and builds the chart once the repository publishes one, through the
// watch on the repository's artifact.
func TestNoVersionInRangeUntilPublished(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	repo := readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", Version: "2.x", SourceRef: fromRepo("charts")})
	got := waitRefused(t, obj, sourcev1.InvalidChartReferenceReason, "no 'app' chart with version matching '2.x' found", nil)
	checkCondition(t, got, "Stalled", metav1.ConditionTrue, sourcev1.InvalidChartReferenceReason, "'2.x'")

	hr.MustPublish(t, helmtest.ConfigMapChart("app", "2.0.0"))
	reconcileNow(t, repo, "published")
	waitRevision(t, obj, "2.0.0")
}

// TestDeletionRemovesTheStoredChart deletes a HelmChart: its artifacts go
// from storage with it.
func TestDeletionRemovesTheStoredChart(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	readyRepo(t, ns, "charts", sourcev1.HelmRepositorySpec{URL: hr.URL})
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("charts")})
	got := waitRevision(t, obj, "1.0.0")
	if err := kube.Delete(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	err := testcluster.Poll(controllertest.Timeout, func() (bool, error) {
		err := kube.Get(context.Background(), key(got), &sourcev1.HelmChart{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("HelmChart not deleted: %v", err)
	}
	for _, u := range []string{got.Status.Artifact.URL, got.Status.URL} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after deletion: %s", u, resp.Status)
		}
	}
}

// TestPassCredentials: a repository whose index names its charts on
// another host gets the credentials of its secretRef sent there only with
// passCredentials; the second host records what it was sent.
func TestPassCredentials(t *testing.T) {
	ns := env.Namespace(t)
	const user, password = "reader", "p4ss-w0rd"
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{Username: user, Password: password, AbsoluteChartURLs: true})
	hr.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	auth := secret(t, ns, "auth", "", map[string][]byte{"username": []byte(user), "password": []byte(password)})
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))

	readyRepo(t, ns, "withheld", sourcev1.HelmRepositorySpec{URL: hr.URL, SecretRef: auth})
	obj := createChart(t, ns, "withheld", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("withheld")})
	waitRevision(t, obj, "1.0.0")
	got := hr.ChartHost.Authorizations()
	if len(got) == 0 || slices.ContainsFunc(got, func(a string) bool { return a != "" }) {
		t.Fatalf("without passCredentials the chart host got %q, want requests without credentials", got)
	}

	readyRepo(t, ns, "passed", sourcev1.HelmRepositorySpec{URL: hr.URL, SecretRef: auth, PassCredentials: true})
	obj = createChart(t, ns, "passed", sourcev1.HelmChartSpec{Chart: "app", SourceRef: fromRepo("passed")})
	waitRevision(t, obj, "1.0.0")
	got = hr.ChartHost.Authorizations()
	if last := got[len(got)-1]; last != want {
		t.Errorf("with passCredentials the chart host got %q, want the repository's basic auth", last)
	}
}
