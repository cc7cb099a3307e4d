package helmrelease_test

import (
	"context"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// readyChart makes a HelmChart of version from the charts repository and
// returns its artifact: a packaged chart on the storage server.
func readyChart(t *testing.T, ns, name, version string) *meta.Artifact {
	t.Helper()
	hc := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: sourcev1.HelmChartSpec{
		Chart: "app", Version: version, Interval: metav1.Duration{Duration: time.Hour},
		SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: "charts"},
	}}
	if err := kube.Create(context.Background(), hc); err != nil {
		t.Fatal(err)
	}
	return controllertest.WaitReady(t, kube, hc).Status.Artifact
}

// fileAsExternal files a copy of a's file on the storage server under the
// ExternalArtifact ea, as a producer writing to that storage would, and
// returns the artifact pointing at the copy.
func fileAsExternal(t *testing.T, ea *sourcev1.ExternalArtifact, a *meta.Artifact) *meta.Artifact {
	t.Helper()
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(artifactStorage.Path, filepath.FromSlash(u.Path)))
	if err != nil {
		t.Fatal(err)
	}
	rel := path.Join("externalartifact", ea.Namespace, ea.Name, path.Base(u.Path))
	dst := filepath.Join(artifactStorage.Path, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := a.DeepCopy()
	out.Path = rel
	u.Path = "/" + rel
	out.URL = u.String()
	return out
}

// publishArtifact sets the ExternalArtifact's status, as its producer would.
func publishArtifact(t *testing.T, ea *sourcev1.ExternalArtifact, a *meta.Artifact) {
	t.Helper()
	ctx := context.Background()
	if err := kube.Get(ctx, client.ObjectKeyFromObject(ea), ea); err != nil {
		t.Fatal(err)
	}
	ea.Status.Artifact = a.DeepCopy()
	ea.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "published", LastTransitionTime: metav1.Now(), ObservedGeneration: ea.Generation}}
	if err := kube.Status().Update(ctx, ea); err != nil {
		t.Fatal(err)
	}
}

// TestChartRefExternalArtifact releases the chart tarball an
// ExternalArtifact publishes, at the chart's version as revision, and
// upgrades when the producer publishes another.
func TestChartRefExternalArtifact(t *testing.T) {
	ns := env.Namespace(t)
	repository(t, ns, helmtest.ConfigMapChart("app", "1.0.0"), helmtest.ConfigMapChart("app", "2.0.0"))
	v1, v2 := readyChart(t, ns, "app-v1", "1.0.0"), readyChart(t, ns, "app-v2", "2.0.0")
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: "generated", Namespace: ns}}
	if err := kube.Create(context.Background(), ea); err != nil {
		t.Fatal(err)
	}
	hr := release(t, ns, "external", "", `{"message":"external"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart = nil
		hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "generated"}
	})
	// No artifact yet: the release waits, saying so.
	controllertest.WaitNotReady(t, kube, hr, meta.DependencyNotReadyReason)

	// A status naming another source's artifact on the storage server (a
	// HelmChart's, which a tenant writing the status could name whatever
	// its namespace) is refused, saying where the artifact must be filed.
	publishArtifact(t, ea, v1)
	refused := controllertest.WaitNotReady(t, kube, hr, meta.ArtifactFailedReason)
	if c := condition(refused, meta.ReadyCondition); !strings.Contains(c.Message, "externalartifact/"+ns+"/generated/") {
		t.Errorf("a foreign artifact refused with %q, which does not say where it must be filed", c.Message)
	}
	if _, err := configMap(t, ns, "external-app"); err == nil {
		t.Error("a release was made from another source's artifact")
	}

	publishArtifact(t, ea, fileAsExternal(t, ea, v1))
	got := controllertest.WaitReady(t, kube, hr)
	if got.Status.LastAttemptedRevision != "1.0.0" || len(got.Status.History) != 1 || got.Status.History[0].ChartVersion != "1.0.0" {
		t.Errorf("revision %q, history %+v: want the chart version 1.0.0", got.Status.LastAttemptedRevision, got.Status.History)
	}
	if cm, err := configMap(t, ns, "external-app"); err != nil || cm.Data["chartVersion"] != "1.0.0" || cm.Data["message"] != "external" {
		t.Fatalf("released %+v: %v", cm, err)
	}

	// The producer publishes another chart: the watch on ExternalArtifacts
	// brings the release to it.
	publishArtifact(t, ea, fileAsExternal(t, ea, v2))
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "upgraded to 2.0.0", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.LastAttemptedRevision == "2.0.0"
	})
	if c := condition(got, helmv2.ReleasedCondition); c == nil || c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Released = %+v", c)
	}
	if cm, err := configMap(t, ns, "external-app"); err != nil || cm.Data["chartVersion"] != "2.0.0" {
		t.Errorf("not upgraded: %+v %v", cm, err)
	}

	// An artifact on a server not allowed stalls the release, naming the
	// host and the flag that would allow it.
	stranger := fileAsExternal(t, ea, v1)
	stranger.URL = "http://stranger.example:8080/externalartifact/" + ns + "/generated/chart.tgz"
	publishArtifact(t, ea, stranger)
	stalled := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "Stalled on the stranger's server", func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, meta.StalledCondition)
	})
	if c := condition(stalled, meta.ReadyCondition); !strings.Contains(c.Message, "stranger.example:8080") || !strings.Contains(c.Message, "--artifact-servers") {
		t.Errorf("a refused server gave %q, which does not name the host and --artifact-servers", c.Message)
	}
}
