package ocirepository_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testca"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// maxArtifactSize is the --artifact-max-size of the controller under test.
const maxArtifactSize = 4 << 20

var (
	env        *testcluster.Cluster
	kube       client.Client
	storageDir string
	// publicCA stands for the public CAs a registry such as ghcr.io is
	// trusted by: the controller's system roots are this CA alone.
	publicCA *testca.CA
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// startControllers runs the real source and kustomize controllers, as
// driftless-controller wires them, against the test cluster. Before any
// TLS connection is made it points the process's system roots
// (SSL_CERT_FILE, read once by crypto/x509) at publicCA, so that a registry
// it issued is trusted without certSecretRef, as a public one is.
func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	publicCA = testca.New("public test CA")
	roots, err := os.CreateTemp("", "ocirepository-roots-*.pem")
	if err != nil {
		return nil, err
	}
	if _, err := roots.Write(publicCA.CertPEM); err != nil {
		return nil, err
	}
	roots.Close()
	os.Setenv("SSL_CERT_FILE", roots.Name())
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	ks := kustomize.DefaultOptions()
	ks.HTTPRetry = 2
	stop, err := controllertest.StartControllers(c, []manager.Controller{source.Controller(), kustomize.New(ks)}, func(o *manager.Options) {
		o.Storage.MaxSize = maxArtifactSize
		storageDir = o.Storage.Path
	})
	if err != nil {
		return nil, err
	}
	return func() { stop(); os.Remove(roots.Name()) }, nil
}

// create makes an OCIRepository named name, polled hourly unless said.
func create(t *testing.T, ns, name string, spec sourcev1.OCIRepositorySpec) *sourcev1.OCIRepository {
	t.Helper()
	if spec.Interval.Duration == 0 {
		spec.Interval = metav1.Duration{Duration: time.Hour}
	}
	obj := &sourcev1.OCIRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create OCIRepository: %v", err)
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

func names(m map[string]string) string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ",")
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

// get reads the object as it is now.
func get(t *testing.T, obj *sourcev1.OCIRepository) *sourcev1.OCIRepository {
	t.Helper()
	got := &sourcev1.OCIRepository{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// waitRevision waits for Ready=True with the artifact at revision.
func waitRevision(t *testing.T, obj *sourcev1.OCIRepository, revision string) *sourcev1.OCIRepository {
	t.Helper()
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "revision "+revision, func(o *sourcev1.OCIRepository) bool {
		return o.Status.Artifact != nil && o.Status.Artifact.Revision == revision
	})
	return controllertest.WaitReady(t, kube, obj)
}

func condition(obj *sourcev1.OCIRepository, t string) *metav1.Condition {
	for i := range obj.Status.Conditions {
		if obj.Status.Conditions[i].Type == t {
			return &obj.Status.Conditions[i]
		}
	}
	return nil
}

func clientKey(obj client.Object) client.ObjectKey { return client.ObjectKeyFromObject(obj) }
