package helmchart_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// gitSource is a Git repository on the real Git server and its ready
// GitRepository.
type gitSource struct {
	repo *gittest.Repo
	obj  *sourcev1.GitRepository
}

// newGitSource commits files on main and waits for a GitRepository of them.
func newGitSource(t *testing.T, ns, name string, files map[string]string) *gitSource {
	t.Helper()
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", files, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: sourcev1.GitRepositorySpec{
		URL: srv.RepoURL(repo.Name()), Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		Interval: metav1.Duration{Duration: time.Hour}}}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create GitRepository: %v", err)
	}
	return &gitSource{repo: repo, obj: controllertest.WaitReady(t, kube, obj)}
}

// commit commits files and waits for the GitRepository to store them.
func (g *gitSource) commit(t *testing.T, files map[string]string, msg string) string {
	t.Helper()
	hash := g.repo.CommitFiles("main", files, msg)
	controllertest.RequestReconcile(t, kube, g.obj, msg)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(g.obj), "commit "+hash, func(o *sourcev1.GitRepository) bool {
		return o.Status.Artifact != nil && strings.HasSuffix(o.Status.Artifact.Revision, hash)
	})
	return hash
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestGitStrategies packages a chart directory of a GitRepository under
// both strategies: ChartVersion makes a new artifact only for a new
// Chart.yaml version, Revision for every commit, as
// `<version>+<first 12 of the commit>`; the same commit packaged by two
// HelmCharts gives one digest.
func TestGitStrategies(t *testing.T) {
	ns := env.Namespace(t)
	app := helmtest.ConfigMapChart("app", "1.0.0")
	git := newGitSource(t, ns, "git", gitFiles(t, "charts/app", app))
	c1 := git.repo.Head("main")

	byVersion := createChart(t, ns, "by-version", sourcev1.HelmChartSpec{Chart: "./charts/app", SourceRef: fromGit("git")})
	twin := createChart(t, ns, "twin", sourcev1.HelmChartSpec{Chart: "charts/app", SourceRef: fromGit("git")})
	byRevision := createChart(t, ns, "by-revision", sourcev1.HelmChartSpec{Chart: "charts/app", SourceRef: fromGit("git"),
		ReconcileStrategy: sourcev1.ReconcileStrategyRevision})

	v1 := waitRevision(t, byVersion, "1.0.0")
	checkCondition(t, v1, "Ready", metav1.ConditionTrue, sourcev1.ChartPackageSucceededReason, "packaged 'app' chart with version '1.0.0'")
	if tw := waitRevision(t, twin, "1.0.0"); tw.Status.Artifact.Digest != v1.Status.Artifact.Digest {
		t.Errorf("one commit packaged twice: digests %s and %s", tw.Status.Artifact.Digest, v1.Status.Artifact.Digest)
	}
	r1 := waitRevision(t, byRevision, "1.0.0+"+c1[:12])
	if r1.Status.ObservedSourceArtifactRevision != git.obj.Status.Artifact.Revision || !strings.HasSuffix(r1.Status.ObservedSourceArtifactRevision, c1) {
		t.Errorf("observedSourceArtifactRevision %s", r1.Status.ObservedSourceArtifactRevision)
	}
	if data, _ := download(t, v1.Status.Artifact.URL); !strings.Contains(chartFiles(t, data)["app/Chart.yaml"], "version: 1.0.0") {
		t.Errorf("packaged chart's Chart.yaml: %v", chartFiles(t, data))
	}

	// A commit that leaves the chart's version alone.
	c2 := git.commit(t, map[string]string{"README.md": "docs"}, "docs")
	waitRevision(t, byRevision, "1.0.0+"+c2[:12])
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(byVersion), "source revision "+c2, func(o *sourcev1.HelmChart) bool {
		return strings.HasSuffix(o.Status.ObservedSourceArtifactRevision, c2)
	})
	if a := got.Status.Artifact; a.Revision != "1.0.0" || a.Digest != v1.Status.Artifact.Digest || !a.LastUpdateTime.Equal(&v1.Status.Artifact.LastUpdateTime) {
		t.Errorf("ChartVersion made a new artifact for a commit without a new version: %+v", a)
	}

	// A new chart version.
	git.commit(t, gitFiles(t, "charts/app", app.WithVersion("1.1.0")), "bump")
	waitRevision(t, byVersion, "1.1.0")
}

// TestGitDependencies builds a chart's dependencies: one `file://` in the
// same artifact, one from a chart repository with basic auth reached
// through the same-namespace HelmRepository of that URL and its
// credentials; one that no repository has fails with DependencyBuildError
// while the previous artifact stays.
func TestGitDependencies(t *testing.T) {
	ns := env.Namespace(t)
	hr := helmtest.NewRepository(t, helmtest.RepositoryOptions{Username: "helm", Password: "s3cret"})
	hr.MustPublish(t, helmtest.ConfigMapChart("remote", "2.0.1"))
	creds := secret(t, ns, "helm-creds", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte("helm"), "password": []byte("s3cret")})
	readyRepo(t, ns, "private", sourcev1.HelmRepositorySpec{URL: hr.URL, SecretRef: creds})

	lib := helmtest.NewChart("lib", "0.1.0").Template("lib.yaml", "# lib\n")
	app := helmtest.ConfigMapChart("app", "1.0.0").
		Dependency(helmtest.Dependency{Name: "lib", Version: "0.1.x", Repository: "file://../lib"}).
		Dependency(helmtest.Dependency{Name: "remote", Version: "~2.0", Repository: hr.URL + "/"})
	broken := helmtest.ConfigMapChart("broken", "1.0.0").
		Dependency(helmtest.Dependency{Name: "remote", Version: "9.x", Repository: hr.URL})
	newGitSource(t, ns, "git", merge(gitFiles(t, "charts/app", app), gitFiles(t, "charts/lib", lib), gitFiles(t, "charts/broken", broken)))

	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "charts/app", SourceRef: fromGit("git")})
	got := waitRevision(t, obj, "1.0.0")
	data, _ := download(t, got.Status.Artifact.URL)
	files := chartFiles(t, data)
	if !strings.Contains(files["app/charts/lib/Chart.yaml"], "name: lib") || !strings.Contains(files["app/charts/remote/Chart.yaml"], "version: 2.0.1") {
		var names []string
		for n := range files {
			names = append(names, n)
		}
		t.Fatalf("packaged chart lacks its dependencies: %v", names)
	}
	authorized := false
	for _, r := range hr.Requests() {
		if strings.HasSuffix(r.Path, ".tgz") && r.Authorization != "" && r.Status == 200 {
			authorized = true
		}
	}
	if !authorized {
		t.Errorf("the dependency was not downloaded with the HelmRepository's credentials: %+v", hr.Requests())
	}
	kept := got.Status.Artifact

	controllertest.Update(t, kube, obj, func(o *sourcev1.HelmChart) { o.Spec.Chart = "charts/broken" })
	got = waitRefused(t, obj, "DependencyBuildError", "dependency 'remote' (version '9.x')", kept)
	checkCondition(t, got, sourcev1.BuildFailedCondition, metav1.ConditionTrue, "DependencyBuildError", hr.URL)
	if strings.Contains(controllertest.Describe(got), "s3cret") {
		t.Errorf("a credential in the status: %s", controllertest.Describe(got))
	}
}

// TestGitBadInput refuses a chart path missing from or escaping the
// artifact, a values file escaping it, and a broken Chart.yaml, each with
// Flux's reason, keeping the previous artifact.
func TestGitBadInput(t *testing.T) {
	ns := env.Namespace(t)
	files := merge(gitFiles(t, "charts/app", helmtest.ConfigMapChart("app", "1.0.0")),
		map[string]string{"charts/bad/Chart.yaml": "name: [unclosed\n", "charts/bad/values.yaml": ""})
	newGitSource(t, ns, "git", files)

	cases := []struct {
		name   string
		mutate func(*sourcev1.HelmChart)
		reason string
		text   string
	}{
		{"path-missing", func(o *sourcev1.HelmChart) { o.Spec.Chart = "charts/nope" }, sourcev1.InvalidChartReferenceReason, "charts/nope"},
		{"path-escaping", func(o *sourcev1.HelmChart) { o.Spec.Chart = "../../etc" }, sourcev1.IllegalPathReason, "../../etc"},
		{"values-escaping", func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"../../../etc/passwd"} }, sourcev1.IllegalPathReason, "../../../etc/passwd"},
		{"values-missing", func(o *sourcev1.HelmChart) { o.Spec.ValuesFiles = []string{"charts/app/values-nope.yaml"} }, "ValuesFilesError", "values-nope.yaml"},
		{"broken-chart-yaml", func(o *sourcev1.HelmChart) { o.Spec.Chart = "charts/bad" }, sourcev1.InvalidChartReferenceReason, "Chart.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := createChart(t, ns, tc.name, sourcev1.HelmChartSpec{Chart: "charts/app", SourceRef: fromGit("git")})
			kept := waitRevision(t, obj, "1.0.0").Status.Artifact
			controllertest.Update(t, kube, obj, tc.mutate)
			got := waitRefused(t, obj, tc.reason, tc.text, kept)
			checkCondition(t, got, "Stalled", metav1.ConditionTrue, tc.reason, tc.text)
			controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeWarning, tc.reason, tc.text)
		})
	}
}

// TestWaitsForTheSource waits, without failing, for a GitRepository that
// does not exist yet, and builds the chart once it has an artifact.
func TestWaitsForTheSource(t *testing.T) {
	ns := env.Namespace(t)
	obj := createChart(t, ns, "app", sourcev1.HelmChartSpec{Chart: "charts/app", SourceRef: fromGit("later")})
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "waiting for the source", func(o *sourcev1.HelmChart) bool {
		c := condition(o, "Ready")
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "SourceUnavailable"
	})
	if c := condition(got, "Stalled"); c != nil && c.Status == metav1.ConditionTrue {
		t.Fatalf("stalled while waiting: %s", controllertest.Describe(got))
	}
	if c := condition(got, sourcev1.FetchFailedCondition); c != nil {
		t.Errorf("FetchFailed while waiting: %+v", c)
	}
	newGitSource(t, ns, "later", gitFiles(t, "charts/app", helmtest.ConfigMapChart("app", "1.0.0")))
	waitRevision(t, obj, "1.0.0")
}
