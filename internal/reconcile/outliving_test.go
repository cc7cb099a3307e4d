package reconcile

import (
	"context"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

type ctxKey struct{}

// blockingPass reports the context it was given and returns when that
// context ends or release is closed.
type blockingPass struct {
	got     chan context.Context
	release chan struct{}
}

func (b blockingPass) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	b.got <- ctx
	select {
	case <-ctx.Done():
		return ctrl.Result{}, ctx.Err()
	case <-b.release:
		return ctrl.Result{}, nil
	}
}

// A pass under Runtime.Grace is not cut when the controller's context ends
// (the manager stopping on SIGTERM); it is when grace ends.
func TestOutlivingPassEndsWithGraceNotWithTheController(t *testing.T) {
	controllerCtx, stop := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "logger"))
	grace, endGrace := context.WithCancel(context.Background())
	defer endGrace()
	pass := blockingPass{got: make(chan context.Context, 1), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := outliving{next: pass, grace: grace}.Reconcile(controllerCtx, ctrl.Request{})
		done <- err
	}()
	ctx := <-pass.got
	if ctx.Value(ctxKey{}) != "logger" {
		t.Error("the pass lost the values of the controller's context")
	}
	// A context derived the usual way is cancelled before stop returns.
	stop()
	if ctx.Err() != nil {
		t.Fatalf("the pass's context ended with the controller's: %v", ctx.Err())
	}
	endGrace()
	if err := <-done; err != context.Canceled {
		t.Errorf("the pass ended with %v once grace ended, want context.Canceled", err)
	}
}

// A pass that returns on its own leaves nothing behind, and a deadline of
// the controller's context (a reconciliation timeout) still holds.
func TestOutlivingPassKeepsItsDeadline(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	controllerCtx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	pass := blockingPass{got: make(chan context.Context, 1), release: make(chan struct{})}
	close(pass.release)
	if _, err := (outliving{next: pass, grace: context.Background()}).Reconcile(controllerCtx, ctrl.Request{}); err != nil {
		t.Fatal(err)
	}
	ctx := <-pass.got
	if got, ok := ctx.Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("deadline %v %v, want %v", got, ok, deadline)
	}
	if ctx.Err() != context.Canceled {
		t.Errorf("the pass's context is still live after it returned: %v", ctx.Err())
	}
}
