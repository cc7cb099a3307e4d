package gitrepository_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/scheme"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/artifact"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testcluster"
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
	dir, err := os.MkdirTemp("", "gitrepository-storage-")
	if err != nil {
		return nil, err
	}
	storageDir = dir
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	opts := manager.Options{
		Concurrent:         4,
		WatchAllNamespaces: true,
		MetricsAddr:        "0",
		HealthAddr:         "0",
		LogEncoding:        "console",
		LogLevel:           "info",
		LeaderElectionID:   "driftless-test",
		Retry:              reconcile.RetryOptions{MinRetryDelay: 100 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
		Storage: manager.StorageOptions{
			Path:             dir,
			Addr:             fmt.Sprintf("127.0.0.1:%d", port),
			AdvAddr:          fmt.Sprintf("127.0.0.1:%d", port),
			RetentionRecords: 2,
			RetentionTTL:     time.Minute,
			DigestAlgo:       "sha256",
			MaxSize:          maxArtifactSize,
		},
	}
	logger := zap.New(zap.WriteTo(io.Discard))
	if os.Getenv("TEST_LOG") != "" {
		logger = zap.New(zap.UseDevMode(true))
	}
	ctrl.SetLogger(logger)
	mgr, err := manager.New(c.Config, opts, []manager.Controller{source.Controller()}, logger)
	if err != nil {
		return nil, err
	}
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	if kube, err = client.New(c.Config, client.Options{Scheme: s}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() { cancel(); <-done; os.RemoveAll(dir) }, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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

// waitFor polls until cond holds and returns the object as it then was.
func waitFor(t *testing.T, obj *sourcev1.GitRepository, what string, cond func(*sourcev1.GitRepository) bool) *sourcev1.GitRepository {
	t.Helper()
	got := &sourcev1.GitRepository{}
	err := testcluster.Poll(60*time.Second, func() (bool, error) {
		if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
			return false, err
		}
		return cond(got), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v\nconditions: %s", what, err, describe(got))
	}
	return got
}

// waitReady waits for Ready=True at the object's current generation.
func waitReady(t *testing.T, obj *sourcev1.GitRepository) *sourcev1.GitRepository {
	t.Helper()
	return waitFor(t, obj, "Ready=True", func(o *sourcev1.GitRepository) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.Status.ObservedGeneration == o.Generation
	})
}

// waitNotReady waits for Ready=False with the given reason.
func waitNotReady(t *testing.T, obj *sourcev1.GitRepository, reason string) *sourcev1.GitRepository {
	t.Helper()
	return waitFor(t, obj, "Ready=False "+reason, func(o *sourcev1.GitRepository) bool {
		c := reconcile.Get(o, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason
	})
}

func describe(o *sourcev1.GitRepository) string {
	var b strings.Builder
	for _, c := range o.Status.Conditions {
		fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	if o.Status.Artifact != nil {
		fmt.Fprintf(&b, "\n  artifact %s %s", o.Status.Artifact.Revision, o.Status.Artifact.Digest)
	}
	return b.String()
}

// files downloads the artifact over HTTP, as a consumer does, and returns
// its files with their content.
func files(t *testing.T, a *meta.Artifact) map[string]string {
	t.Helper()
	dir := t.TempDir()
	f, err := artifact.NewFetcher(artifact.FetcherOptions{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Fetch(context.Background(), a.URL, a.Digest, dir); err != nil {
		t.Fatalf("fetch %s: %v", a.URL, err)
	}
	out := map[string]string{}
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
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

func requestReconcile(t *testing.T, obj *sourcev1.GitRepository, value string) {
	t.Helper()
	patch := client.RawPatch("application/merge-patch+json",
		[]byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, value)))
	if err := kube.Patch(context.Background(), obj.DeepCopy(), patch); err != nil {
		t.Fatal(err)
	}
}

func update(t *testing.T, obj *sourcev1.GitRepository, mutate func(*sourcev1.GitRepository)) {
	t.Helper()
	err := testcluster.Poll(10*time.Second, func() (bool, error) {
		cur := &sourcev1.GitRepository{}
		if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), cur); err != nil {
			return false, err
		}
		mutate(cur)
		if err := kube.Update(context.Background(), cur); err != nil {
			return false, err
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, obj client.Object) []corev1.Event {
	t.Helper()
	list, err := env.Kube.CoreV1().Events(obj.GetNamespace()).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + obj.GetName(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// waitEvent waits for an event of the type and reason whose message contains text.
func waitEvent(t *testing.T, obj client.Object, eventType, reason, text string) {
	t.Helper()
	testcluster.Eventually(t, 30*time.Second, fmt.Sprintf("%s event %s %q", eventType, reason, text), func() (bool, error) {
		for _, e := range events(t, obj) {
			if e.Type == eventType && e.Reason == reason && strings.Contains(e.Message, text) {
				return true, nil
			}
		}
		return false, nil
	})
}
