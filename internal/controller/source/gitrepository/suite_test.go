package gitrepository_test

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// maxArtifactSize is the --artifact-max-size of the controller under test.
const maxArtifactSize = 4 << 20

var (
	env        *testcluster.Cluster
	kube       client.Client
	storageDir string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startController}, &env)
}

// startController runs the real source controller, as driftless-controller
// wires it, against the test cluster.
func startController(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	return controllertest.StartControllers(c, []manager.Controller{source.Controller()}, func(o *manager.Options) {
		o.Storage.MaxSize = maxArtifactSize
		storageDir = o.Storage.Path
	})
}

// create makes a GitRepository named name in a fresh namespace.
func create(t *testing.T, ns, name string, spec sourcev1.GitRepositorySpec) *sourcev1.GitRepository {
	t.Helper()
	if spec.Interval.Duration == 0 {
		spec.Interval = metav1.Duration{Duration: time.Hour}
	}
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create GitRepository: %v", err)
	}
	return obj
}

func secret(t *testing.T, ns, name string, data map[string][]byte) *meta.LocalObjectReference {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	if err := kube.Create(context.Background(), s); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	return &meta.LocalObjectReference{Name: name}
}

func names(m map[string]string) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// served tells whether the artifact server answers 200 for the artifact.
func served(t *testing.T, a *meta.Artifact) bool {
	t.Helper()
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatalf("GET %s: %v", a.URL, err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
