package controllertest

import (
	"context"
	"io"
	"net"
	"os"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/driftless/driftless/api/scheme"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// Options are the manager options the tests run controllers with unless a
// customizer says otherwise: every namespace, fast retries, dependencies
// looked at again after 5s, no metrics or health listeners, and artifact
// storage in dir served on addr.
func Options(dir, addr string) manager.Options {
	return manager.Options{
		Concurrent: 4, WatchAllNamespaces: true, MetricsAddr: "0", HealthAddr: "0",
		LogEncoding: "console", LogLevel: "info", LeaderElectionID: "driftless-test",
		Retry:             reconcile.RetryOptions{MinRetryDelay: 100 * time.Millisecond, MaxRetryDelay: 2 * time.Second},
		RequeueDependency: 5 * time.Second,
		Storage: manager.StorageOptions{Path: dir, Addr: addr, AdvAddr: addr, RetentionRecords: 2,
			RetentionTTL: time.Minute, DigestAlgo: "sha256"},
	}
}

// StartControllers runs controllers in one manager against the cluster, as
// driftless-controller does, and returns the function that stops it and
// removes its storage. customize, when not nil, changes the Options before
// the manager is built (a storage limit, a shard's label selector); it may
// also read them, such as the storage path. Several managers may run in one
// test process. Logs are discarded unless TEST_LOG is set.
func StartControllers(c *testcluster.Cluster, controllers []manager.Controller, customize func(*manager.Options)) (stop func(), err error) {
	dir, err := os.MkdirTemp("", "driftless-storage-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	opts := Options(dir, addr)
	if customize != nil {
		customize(&opts)
	}
	opts.SeveralManagersPerProcess = true
	logger := zap.New(zap.WriteTo(io.Discard))
	if os.Getenv("TEST_LOG") != "" {
		logger = zap.New(zap.UseDevMode(true))
	}
	ctrl.SetLogger(logger)
	mgr, err := manager.New(c.Config, opts, controllers, logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() { cancel(); <-done; os.RemoveAll(dir) }, nil
}

// Client is a client of the cluster that knows every Driftless kind.
func Client(c *testcluster.Cluster) (client.Client, error) {
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	return client.New(c.Config, client.Options{Scheme: s})
}

// freeAddr is a local address no one listens on, for the storage server.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
