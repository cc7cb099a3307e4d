package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/driftless/driftless/api/scheme"
	"github.com/driftless/driftless/internal/controller/kustomization"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testcluster"
)

// The CLI tests run against a real cluster with the source and kustomize
// controllers running, so commands that wait (reconcile, resume) see the
// real status they wait for.
var (
	env  *testcluster.Cluster
	kube client.Client
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

func startControllers(c *testcluster.Cluster) (func(), error) {
	dir, err := os.MkdirTemp("", "cli-storage-")
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
		LogEncoding: "console", LogLevel: "info", LeaderElectionID: "driftless-cli-test",
		Retry:             reconcile.RetryOptions{MinRetryDelay: 100 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
		RequeueDependency: 5 * time.Second,
		Storage: manager.StorageOptions{Path: dir, Addr: addr, AdvAddr: addr, RetentionRecords: 2,
			RetentionTTL: time.Minute, DigestAlgo: "sha256"},
		Kustomize: manager.KustomizeOptions{ConcurrentSSA: 4, HTTPRetry: 2, WatchConfigsLabelSelector: "reconcile.fluxcd.io/watch=Enabled"},
	}
	logger := zap.New(zap.WriteTo(io.Discard))
	ctrl.SetLogger(logger)
	mgr, err := manager.New(c.Config, opts, []manager.Controller{source.Controller(), kustomization.Controller()}, logger)
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

// runFlux runs the flux command line in-process against the test cluster
// and returns what it printed. stdin may be "".
func runFlux(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(stdin), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig()}, args...))
	err = root.Execute()
	return out.String(), errOut.String(), err
}
