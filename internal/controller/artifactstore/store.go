// Package artifactstore gives the controller groups that publish artifacts
// (source, source-watcher) one artifact storage per process and the one
// HTTP server that serves it, whichever of them the process runs: Flux runs
// a server per controller, Driftless one per process, with the same URLs.
package artifactstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/manager"
)

var (
	mu     sync.Mutex
	stores = map[ctrl.Manager]*artifact.Storage{}
)

// For returns the storage of mgr's process, made from the --storage-* and
// --artifact-* flags the first time a group asks, when it also adds the
// artifact server to mgr (run by the elected leader only, as in Flux).
func For(mgr ctrl.Manager, o manager.Options) (*artifact.Storage, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := stores[mgr]; ok {
		return s, nil
	}
	storage, err := artifact.NewStorage(artifact.Options{
		Root:             o.Storage.Path,
		AdvAddr:          o.Storage.Advertised(),
		DigestAlgo:       o.Storage.DigestAlgo,
		RetentionRecords: o.Storage.RetentionRecords,
		RetentionTTL:     o.Storage.RetentionTTL,
		MaxArchiveSize:   o.Storage.MaxSize,
		MaxArchiveFiles:  o.Storage.MaxFiles,
	})
	if err != nil {
		return nil, fmt.Errorf("artifact storage: %w", err)
	}
	if err := mgr.Add(&server{addr: o.Storage.Addr, handler: artifact.NewHandler(storage)}); err != nil {
		return nil, err
	}
	stores[mgr] = storage
	return storage, nil
}

// server serves the storage over HTTP while this process leads.
type server struct {
	addr    string
	handler http.Handler
}

// NeedLeaderElection makes only the leader serve artifacts.
func (s *server) NeedLeaderElection() bool { return true }

// Start serves until ctx ends.
func (s *server) Start(ctx context.Context) error {
	srv := &http.Server{Addr: s.addr, Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("artifact server: %w", err)
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("artifact server: %w", err)
	}
	return nil
}
