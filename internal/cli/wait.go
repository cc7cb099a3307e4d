package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/kinds"
)

// readiness tells whether obj has finished: done with nil when it is Ready,
// done with an error when the reconciliation failed, not done otherwise.
type readiness func(obj meta.Object) (done bool, err error)

// readyAfter is the readiness of a reconciliation that handled the request
// token ("" for any reconciliation of the current generation). Ready=True
// of the current generation is success; Ready=False is failure, unless the
// controller is only waiting for a source or a dependency, which may still
// turn up.
func readyAfter(k kinds.Kind, token string) readiness {
	return func(obj meta.Object) (bool, error) {
		if token != "" && obj.GetLastHandledReconcileRequest() != token {
			return false, nil
		}
		ready := apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition)
		if ready == nil || ready.ObservedGeneration != obj.GetGeneration() {
			return false, nil
		}
		switch {
		case ready.Status == "True" && obj.GetObservedGeneration() == obj.GetGeneration():
			return true, nil
		case ready.Status == "False" && !waitingReason(ready.Reason):
			return true, fmt.Errorf("%s %s/%s reconciliation failed: %s", k.Kind, obj.GetNamespace(), obj.GetName(), ready.Message)
		}
		return false, nil
	}
}

// waitingReason tells whether a Ready=False reason means the controller is
// waiting for a dependency to be ready (a HelmChart for its source).
func waitingReason(reason string) bool {
	switch reason {
	case meta.DependencyNotReadyReason, sourcev1.SourceUnavailableReason, sourcev1.NoSourceArtifactReason:
		return true
	}
	return false
}

// waitFor watches the named object until cond says it is done, the object
// is deleted, or ctx ends. Watching (not polling) sees each status change the
// moment the controller writes it.
func waitFor(ctx context.Context, c client.WithWatch, k kinds.Kind, key client.ObjectKey, cond readiness) (meta.Object, error) {
	var last meta.Object
	for {
		w, err := c.Watch(ctx, k.NewList(), client.InNamespace(key.Namespace),
			client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", key.Name)})
		if err != nil {
			return nil, fmt.Errorf("watch %s %s: %w", k.Kind, key, err)
		}
		obj, done, err := consume(ctx, w, k, key, cond)
		w.Stop()
		if obj != nil {
			last = obj
		}
		if done || err != nil {
			return last, err
		}
		if ctx.Err() != nil {
			return last, timeoutError(ctx, k, key, last)
		}
		// The server closed the watch: open a new one.
	}
}

func consume(ctx context.Context, w watch.Interface, k kinds.Kind, key client.ObjectKey, cond readiness) (meta.Object, bool, error) {
	var last meta.Object
	for {
		select {
		case <-ctx.Done():
			return last, false, timeoutError(ctx, k, key, last)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return last, false, nil
			}
			switch ev.Type {
			case watch.Error:
				return last, false, fmt.Errorf("watch %s %s: %v", k.Kind, key, apierrors.FromObject(ev.Object))
			case watch.Deleted:
				return last, true, fmt.Errorf("%s %s was deleted while waiting for it", k.Kind, key)
			}
			obj, ok := ev.Object.(meta.Object)
			if !ok {
				continue
			}
			last = obj
			if done, err := cond(obj); done || err != nil {
				return last, true, err
			}
		}
	}
}

func timeoutError(ctx context.Context, k kinds.Kind, key client.ObjectKey, last meta.Object) error {
	msg := "no status yet"
	if last != nil {
		if ready := apimeta.FindStatusCondition(last.GetConditions(), meta.ReadyCondition); ready != nil {
			msg = fmt.Sprintf("Ready=%s: %s", ready.Status, ready.Message)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out waiting for %s %s (%s); check it with 'flux get %s %s -n %s' or wait longer with --timeout",
			k.Kind, key, msg, k.Command.GetPath(), key.Name, key.Namespace)
	}
	return ctx.Err()
}

// waitGone watches the named object until it no longer exists.
func waitGone(ctx context.Context, c client.WithWatch, k kinds.Kind, key client.ObjectKey) error {
	for {
		w, err := c.Watch(ctx, k.NewList(), client.InNamespace(key.Namespace),
			client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", key.Name)})
		if err != nil {
			return fmt.Errorf("watch %s %s: %w", k.Kind, key, err)
		}
		// The watch has started; if the object is already gone, say so now.
		if err := c.Get(ctx, key, k.New()); apierrors.IsNotFound(err) {
			w.Stop()
			return nil
		}
		gone, err := consumeUntilDeleted(ctx, w)
		w.Stop()
		if gone || err != nil {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("timed out waiting for %s %s to be deleted; its finalizer may be stuck: check 'flux get %s %s -n %s'",
				k.Kind, key, k.Command.GetPath(), key.Name, key.Namespace)
		}
	}
}

func consumeUntilDeleted(ctx context.Context, w watch.Interface) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			if ev.Type == watch.Deleted {
				return true, nil
			}
		}
	}
}

// withTimeout bounds a wait by --timeout.
func (f *Factory) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, f.Timeout)
}

// requestToken is the value of reconcile.fluxcd.io/requestedAt for a request
// made now.
func requestToken() string { return kinds.RequestToken(time.Now()) }
