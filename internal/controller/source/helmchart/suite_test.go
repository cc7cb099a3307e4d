package helmchart_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The chart limits of the controller under test, small so that a test
// chart can be over them.
const (
	maxChartSize     = 2 << 20
	maxChartFileSize = 256 << 10
)

var (
	env  *testcluster.Cluster
	kube client.Client
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the real source controller, as driftless-controller
// wires it, with small chart limits.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	opts := source.DefaultOptions()
	opts.HelmChartMaxSize = maxChartSize
	opts.HelmChartFileMaxSize = maxChartFileSize
	return controllertest.StartControllers(c, []manager.Controller{source.New(opts)}, nil)
}

// createRepo makes a HelmRepository, polled hourly.
func createRepo(t *testing.T, ns, name string, spec sourcev1.HelmRepositorySpec) *sourcev1.HelmRepository {
	t.Helper()
	spec.Interval = metav1.Duration{Duration: time.Hour}
	obj := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create HelmRepository: %v", err)
	}
	return obj
}

// readyRepo makes an HTTP HelmRepository of url and waits for its index.
func readyRepo(t *testing.T, ns, name string, spec sourcev1.HelmRepositorySpec) *sourcev1.HelmRepository {
	t.Helper()
	return controllertest.WaitReady(t, kube, createRepo(t, ns, name, spec))
}

// createChart makes a HelmChart, polled hourly: whatever it does sooner
// is what a watch or a request made it do.
func createChart(t *testing.T, ns, name string, spec sourcev1.HelmChartSpec) *sourcev1.HelmChart {
	t.Helper()
	spec.Interval = metav1.Duration{Duration: time.Hour}
	obj := &sourcev1.HelmChart{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create HelmChart: %v", err)
	}
	return obj
}

func fromRepo(name string) sourcev1.LocalHelmChartSourceReference {
	return sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.HelmRepositoryKind, Name: name}
}

func fromGit(name string) sourcev1.LocalHelmChartSourceReference {
	return sourcev1.LocalHelmChartSourceReference{Kind: sourcev1.GitRepositoryKind, Name: name}
}

func secret(t *testing.T, ns, name string, typ corev1.SecretType, data map[string][]byte) *meta.LocalObjectReference {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: data}
	if err := kube.Create(context.Background(), s); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create secret: %v", err)
	}
	return &meta.LocalObjectReference{Name: name}
}

// waitRevision waits for Ready=True with the artifact at revision.
func waitRevision(t *testing.T, obj *sourcev1.HelmChart, revision string) *sourcev1.HelmChart {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "revision "+revision, func(o *sourcev1.HelmChart) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Revision == revision && reconcile.IsTrue(o, meta.ReadyCondition)
	})
	return controllertest.WaitReady(t, kube, obj)
}

// waitRefused waits for Ready=False with reason and a message holding
// text, and checks that the artifact kept is kept, and still served.
func waitRefused(t *testing.T, obj *sourcev1.HelmChart, reason, text string, kept *meta.Artifact) *sourcev1.HelmChart {
	t.Helper()
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), reason+": "+text, func(o *sourcev1.HelmChart) bool {
		c := reconcile.Get(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason && strings.Contains(c.Message, text) &&
			(!reconcile.IsTrue(o, "Stalled") || o.Status.ObservedGeneration == o.Generation)
	})
	controllertest.AssertKStatus(t, got)
	if kept != nil {
		a := got.Status.Artifact
		if a == nil || a.Revision != kept.Revision || a.Digest != kept.Digest {
			t.Fatalf("artifact after the failure %+v, want the previous one %+v", a, kept)
		}
		if data, _ := download(t, a.URL); len(data) == 0 {
			t.Fatalf("previous artifact not served")
		}
	}
	return got
}

// reconcileNow asks for a reconciliation and waits until it was handled.
func reconcileNow[T controllertest.Object](t *testing.T, obj T, value string) {
	t.Helper()
	controllertest.RequestReconcile(t, kube, obj, value)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "reconcile request "+value, func(o T) bool {
		return o.GetLastHandledReconcileRequest() == value
	})
}

// download returns the bytes served at url and their sha256 digest.
func download(t *testing.T, url string) ([]byte, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, digest(b)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// chartFiles reads a chart archive's files by path.
func chartFiles(t *testing.T, archive []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = string(b)
	}
}

// gitFiles are a chart's files as a Git commit takes them, under dir.
func gitFiles(t *testing.T, dir string, c *helmtest.Chart) map[string]string {
	t.Helper()
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[path.Join(dir, f.Name)] = string(f.Data)
	}
	return out
}

// condition returns condition ct of obj, nil when absent.
func condition(obj *sourcev1.HelmChart, ct string) *metav1.Condition { return reconcile.Get(obj, ct) }

// checkCondition fails unless condition ct has status, reason and text.
func checkCondition(t *testing.T, obj *sourcev1.HelmChart, ct string, status metav1.ConditionStatus, reason, text string) {
	t.Helper()
	c := condition(obj, ct)
	if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, text) {
		t.Fatalf("%s = %+v, want %s %s %q\n%s", ct, c, status, reason, text, controllertest.Describe(obj))
	}
}

// writeTemp writes data to a file of the test.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := path.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cacheEvents sums gotk_cache_events_total of the HelmCharts of namespace,
// as the manager's metrics registry (served on /metrics) has it.
func cacheEvents(t *testing.T, namespace string) (hits, misses float64) {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "gotk_cache_events_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] != namespace {
				continue
			}
			switch labels["event_type"] {
			case "cache_hit":
				hits += m.GetCounter().GetValue()
			case "cache_miss":
				misses += m.GetCounter().GetValue()
			}
		}
	}
	return hits, misses
}
