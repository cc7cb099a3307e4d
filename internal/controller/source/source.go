// Package source wires the "source" controller of driftless-controller: the
// artifact storage, its HTTP server (run by the elected leader only, as in
// Flux), and the controllers of the source kinds that exist.
package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/source/gitrepository"
	"github.com/driftless/driftless/internal/controller/source/ocirepository"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
)

// Controller is the source controller as the manager selects it.
func Controller() manager.Controller {
	return manager.Controller{
		Name:    "source",
		Objects: []client.Object{&sourcev1.GitRepository{}, &sourcev1.OCIRepository{}},
		Setup:   setup,
	}
}

func setup(mgr ctrl.Manager, deps manager.Deps) error {
	storage, err := artifact.NewStorage(artifact.Options{
		Root:             deps.Options.Storage.Path,
		AdvAddr:          deps.Options.Storage.Advertised(),
		DigestAlgo:       deps.Options.Storage.DigestAlgo,
		RetentionRecords: deps.Options.Storage.RetentionRecords,
		RetentionTTL:     deps.Options.Storage.RetentionTTL,
		MaxArchiveSize:   deps.Options.Storage.MaxSize,
	})
	if err != nil {
		return fmt.Errorf("artifact storage: %w", err)
	}
	if err := mgr.Add(&artifactServer{addr: deps.Options.Storage.Addr, handler: artifact.NewHandler(storage)}); err != nil {
		return err
	}
	gr := &gitrepository.Reconciler{
		Client:  mgr.GetClient(),
		Secrets: mgr.GetAPIReader(),
		Storage: storage,
		Git:     &git.Client{},
	}
	if err := reconcile.Start(context.Background(), mgr, gr.Kind(), deps.Runtime(mgr, "source-controller")); err != nil {
		return err
	}
	or := &ocirepository.Reconciler{
		Client:  mgr.GetClient(),
		Secrets: mgr.GetAPIReader(),
		Storage: storage,
		MaxSize: deps.Options.Storage.MaxSize,
	}
	return reconcile.Start(context.Background(), mgr, or.Kind(), deps.Runtime(mgr, "source-controller"))
}

// artifactServer serves the storage over HTTP while this process leads.
type artifactServer struct {
	addr    string
	handler http.Handler
}

// NeedLeaderElection makes only the leader serve artifacts.
func (s *artifactServer) NeedLeaderElection() bool { return true }

// Start serves until ctx ends.
func (s *artifactServer) Start(ctx context.Context) error {
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
