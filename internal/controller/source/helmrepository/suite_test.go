package helmrepository_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// maxIndexSize is the --helm-index-max-size of the controller under test.
const maxIndexSize = 256 << 10

var (
	env        *testcluster.Cluster
	kube       client.Client
	storageDir string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the real source controller, as driftless-controller
// wires it, with a small index limit.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	opts := source.DefaultOptions()
	opts.HelmIndexMaxSize = maxIndexSize
	return controllertest.StartControllers(c, []manager.Controller{source.New(opts)}, func(o *manager.Options) {
		storageDir = o.Storage.Path
	})
}

// create makes a HelmRepository named name, polled hourly unless said.
func create(t *testing.T, ns, name string, spec sourcev1.HelmRepositorySpec) *sourcev1.HelmRepository {
	t.Helper()
	if spec.Interval.Duration == 0 {
		spec.Interval = metav1.Duration{Duration: time.Hour}
	}
	obj := &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create HelmRepository: %v", err)
	}
	return obj
}

func secret(t *testing.T, ns, name string, data map[string][]byte) *meta.LocalObjectReference {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	if err := kube.Create(context.Background(), s); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create secret: %v", err)
	}
	return &meta.LocalObjectReference{Name: name}
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
	sum := sha256.Sum256(b)
	return b, "sha256:" + hex.EncodeToString(sum[:])
}

func get(t *testing.T, obj *sourcev1.HelmRepository) *sourcev1.HelmRepository {
	t.Helper()
	got := &sourcev1.HelmRepository{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// reconcileNow asks for a reconciliation and waits until it was handled.
func reconcileNow(t *testing.T, obj *sourcev1.HelmRepository, value string) *sourcev1.HelmRepository {
	t.Helper()
	controllertest.RequestReconcile(t, kube, obj, value)
	return controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "reconcile request "+value, func(o *sourcev1.HelmRepository) bool {
		return o.Status.LastHandledReconcileAt == value
	})
}

// waitRevision waits for Ready=True with the artifact at revision.
func waitRevision(t *testing.T, obj *sourcev1.HelmRepository, revision string) *sourcev1.HelmRepository {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "revision "+revision, func(o *sourcev1.HelmRepository) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Revision == revision
	})
	return controllertest.WaitReady(t, kube, obj)
}

func condition(obj *sourcev1.HelmRepository, t string) *metav1.Condition {
	return reconcile.Get(obj, t)
}
