package kustomization_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/scheme"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/kustomization"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/gittest"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testcluster"
)

var (
	env  *testcluster.Cluster
	kube client.Client
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

// shardLabel selects the objects of the lockdown shard; the main
// controllers leave them alone, as Flux's sharding does.
const shardLabel = "sharding.fluxcd.io/key"

// startControllers runs the source and kustomize controllers as
// driftless-controller wires them: the main ones, and a "lockdown" shard
// with the multi-tenancy flags.
func startControllers(c *testcluster.Cluster) (func(), error) {
	stopMain, err := startManager(c, func(o *manager.Options) { o.WatchLabelSelector = "!" + shardLabel })
	if err != nil {
		return nil, err
	}
	stopShard, err := startManager(c, func(o *manager.Options) {
		o.WatchLabelSelector = shardLabel + "=lockdown"
		o.NoCrossNamespaceRefs = true
		o.DefaultServiceAccount = "tenant-reconciler"
	})
	if err != nil {
		stopMain()
		return nil, err
	}
	return func() { stopShard(); stopMain() }, nil
}

func startManager(c *testcluster.Cluster, customize func(*manager.Options)) (func(), error) {
	dir, err := os.MkdirTemp("", "kustomization-storage-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	opts := manager.Options{
		Concurrent: 4, WatchAllNamespaces: true, MetricsAddr: "0", HealthAddr: "0",
		LogEncoding: "console", LogLevel: "info", LeaderElectionID: "driftless-test",
		Retry:             reconcile.RetryOptions{MinRetryDelay: 100 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
		RequeueDependency: 5 * time.Second,
		Storage: manager.StorageOptions{Path: dir, Addr: addr, AdvAddr: addr, RetentionRecords: 2,
			RetentionTTL: time.Minute, DigestAlgo: "sha256"},
		Kustomize: manager.KustomizeOptions{ConcurrentSSA: 4, HTTPRetry: 2, WatchConfigsLabelSelector: "reconcile.fluxcd.io/watch=Enabled"},
	}
	customize(&opts)
	opts.SeveralManagersPerProcess = true
	logger := zap.New(zap.WriteTo(io.Discard))
	if os.Getenv("TEST_LOG") != "" {
		logger = zap.New(zap.UseDevMode(true))
	}
	ctrl.SetLogger(logger)
	mgr, err := manager.New(c.Config, opts, []manager.Controller{source.Controller(), kustomization.Controller()}, logger)
	if err != nil {
		return nil, err
	}
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	if kube == nil {
		if kube, err = client.New(c.Config, client.Options{Scheme: s}); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() { cancel(); <-done; os.RemoveAll(dir) }, nil
}

// applyYAML creates every object of a multi-document YAML, in namespace ns
// when an object names none.
func applyYAML(t *testing.T, ns, manifests string) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifests), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetNamespace() == "" && u.GetKind() != "Namespace" {
			u.SetNamespace(ns)
		}
		if err := kube.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// gitSource serves repo and creates a GitRepository for its main branch.
func gitSource(t *testing.T, ns, name string, repo *gittest.Repo) {
	t.Helper()
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	obj := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func getKS(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	k := &kustomizev1.Kustomization{}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
		t.Fatal(err)
	}
	return k
}

func waitKS(t *testing.T, ns, name, what string, cond func(*kustomizev1.Kustomization) bool) *kustomizev1.Kustomization {
	t.Helper()
	k := &kustomizev1.Kustomization{}
	err := testcluster.Poll(90*time.Second, func() (bool, error) {
		if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, k); err != nil {
			return false, err
		}
		return cond(k), nil
	})
	if err != nil {
		t.Fatalf("Kustomization %s/%s: waiting for %s: %v\n%s", ns, name, what, err, conditions(k))
	}
	return k
}

func waitReady(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	return waitKS(t, ns, name, "Ready=True", func(k *kustomizev1.Kustomization) bool {
		return reconcile.IsTrue(k, meta.ReadyCondition) && k.Status.ObservedGeneration == k.Generation
	})
}

func waitFailed(t *testing.T, ns, name, reason string) *kustomizev1.Kustomization {
	t.Helper()
	return waitKS(t, ns, name, "Ready=False "+reason, func(k *kustomizev1.Kustomization) bool {
		c := reconcile.Get(k, meta.ReadyCondition)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason
	})
}

func conditions(k *kustomizev1.Kustomization) string {
	var b strings.Builder
	for _, c := range k.Status.Conditions {
		fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

func requestReconcile(t *testing.T, ns, kind, name, value string) {
	t.Helper()
	var obj client.Object = &kustomizev1.Kustomization{}
	if kind == "GitRepository" {
		obj = &sourcev1.GitRepository{}
	}
	obj.SetNamespace(ns)
	obj.SetName(name)
	patch := client.RawPatch("application/merge-patch+json",
		[]byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, value)))
	if err := kube.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
}

func namespace(t *testing.T, name string) {
	t.Helper()
	err := kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func events(t *testing.T, ns, name string) []corev1.Event {
	t.Helper()
	list, err := env.Kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func waitEvent(t *testing.T, ns, name, eventType, text string) {
	t.Helper()
	testcluster.Eventually(t, 30*time.Second, eventType+" event with "+text, func() (bool, error) {
		for _, e := range events(t, ns, name) {
			if e.Type == eventType && strings.Contains(e.Message, text) {
				return true, nil
			}
		}
		return false, nil
	})
}
