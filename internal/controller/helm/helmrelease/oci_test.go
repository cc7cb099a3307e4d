package helmrelease_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/ocitest"
)

// install-from-ocirepo-source: a chartRef to an OCIRepository that copies
// the chart layer; the revision carries the digest, and a new digest of the
// same version upgrades.
func TestChartRefOCIRepository(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	reg := ocitest.Start(t, ocitest.Options{})
	first := helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", "1.0.0"))
	repo := &sourcev1.OCIRepository{ObjectMeta: metav1ObjectMeta(ns, "app"), Spec: sourcev1.OCIRepositorySpec{
		URL: "oci://" + reg.Host + "/charts/app", Insecure: true, Interval: metav1.Duration{Duration: time.Hour},
		Reference: &sourcev1.OCIRepositoryRef{Tag: "1.0.0"},
		LayerSelector: &sourcev1.OCILayerSelector{
			MediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", Operation: sourcev1.OCILayerCopy,
		},
	}}
	create(t, repo)
	hr := release(t, ns, "oci", "", `{"message":"from-oci"}`, func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart = nil
		hr.Spec.ChartRef = &helmv2.CrossNamespaceSourceReference{Kind: sourcev1.OCIRepositoryKind, Name: "app"}
	})
	got := controllertest.WaitReady(t, kube, hr)
	want := "1.0.0+" + first.Digest.Hex[:12]
	if got.Status.LastAttemptedRevision != want || got.Status.LastAttemptedRevisionDigest != first.Digest.String() {
		t.Errorf("last attempted revision %q (digest %q), want %q (%s)", got.Status.LastAttemptedRevision,
			got.Status.LastAttemptedRevisionDigest, want, first.Digest)
	}
	if h := got.Status.History[0]; h.ChartVersion != want || h.OCIDigest != first.Digest.String() {
		t.Errorf("history[0] %+v", h)
	}
	if c := condition(got, helmv2.ReleasedCondition); !strings.Contains(c.Message, "app@"+want) {
		t.Errorf("Released = %+v", c)
	}
	if cm, err := configMap(t, ns, "oci-app"); err != nil || cm.Data["message"] != "from-oci" {
		t.Errorf("released ConfigMap %+v %v", cm.Data, err)
	}

	// The same version pushed again with other content: a new digest.
	second := helmtest.PushOCI(t, reg, helmtest.ConfigMapChart("app", "1.0.0").Description("rebuilt"))
	if second.Digest == first.Digest {
		t.Fatal("the rebuilt chart has the same digest")
	}
	controllertest.RequestReconcile(t, kube, repo, "rebuilt")
	want2 := "1.0.0+" + second.Digest.Hex[:12]
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(hr), "upgraded to "+want2, func(o *helmv2.HelmRelease) bool {
		return reconcile.IsTrue(o, "Ready") && len(o.Status.History) > 0 && o.Status.History[0].ChartVersion == want2
	})
	if got.Status.History[0].Version != 2 {
		t.Errorf("history %+v", got.Status.History)
	}
	if h := historyLine(helmHistory(t, ns, "oci")); h != "1:superseded:app-"+want+" 2:deployed:app-"+want2 {
		t.Errorf("helm history %s", h)
	}
}
