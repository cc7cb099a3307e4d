package bucket_test

import (
	"context"
	"path"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/s3test"
)

// TestHelmChartFromABucket: a chart directory uploaded to a bucket is
// packaged by a HelmChart whose sourceRef is the Bucket, at the version of
// its Chart.yaml; a new version uploaded is packaged in turn.
func TestHelmChartFromABucket(t *testing.T) {
	ns := env.Namespace(t)
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "charts")
	upload := func(c *helmtest.Chart) map[string]string {
		files, err := c.Files()
		if err != nil {
			t.Fatal(err)
		}
		etags := map[string]string{}
		for _, f := range files {
			key := path.Join("charts/app", f.Name)
			etags[key] = s.Put(t, "charts", key, f.Data)
		}
		return etags
	}
	etags := upload(helmtest.ConfigMapChart("app", "1.0.0"))
	bucket := create(t, ns, "charts", sourcev1.BucketSpec{BucketName: "charts", Endpoint: s.Endpoint, Insecure: true, SecretRef: keysSecret(t, ns, s)})
	waitRevision(t, bucket, fluxRevision(etags))

	chart := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns}, Spec: sourcev1.HelmChartSpec{
		Chart:     "./charts/app",
		SourceRef: sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.BucketKind, Name: "charts"},
		Interval:  metav1.Duration{Duration: time.Hour},
	}}
	if err := kube.Create(context.Background(), chart); err != nil {
		t.Fatal(err)
	}
	waitChart := func(version string) *sourcev1.HelmChart {
		t.Helper()
		controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(chart), "chart "+version, func(o *sourcev1.HelmChart) bool {
			return o.Status.Artifact != nil && o.Status.Artifact.Revision == version
		})
		return controllertest.WaitReady(t, kube, chart)
	}
	got := waitChart("1.0.0")
	if want := get(t, bucket).Status.Artifact.Revision; got.Status.ObservedSourceArtifactRevision != want {
		t.Errorf("observedSourceArtifactRevision %q, want the Bucket's %q", got.Status.ObservedSourceArtifactRevision, want)
	}

	for k, v := range upload(helmtest.ConfigMapChart("app", "1.1.0")) {
		etags[k] = v
	}
	requestReconcile(t, bucket)
	waitRevision(t, bucket, fluxRevision(etags))
	waitChart("1.1.0")
}
