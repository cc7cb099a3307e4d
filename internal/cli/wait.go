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

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

// fluxKind describes a kind that create, reconcile, suspend, resume and
// delete act on, so that those commands are written once for every kind.
type fluxKind struct {
	// Kind is the API kind (GitRepository).
	Kind string
	// Command is how the command line names it ("source git"), and
	// GetCommand how `flux get` does ("sources git").
	Command, GetCommand string
	// New returns an empty object of the kind; NewList an empty list.
	New     func() meta.Object
	NewList func() client.ObjectList
	// Items returns the objects of a list made by NewList.
	Items func(client.ObjectList) []meta.Object
	// SetSuspend sets spec.suspend.
	SetSuspend func(meta.Object, bool)
	// Revision is what the last successful reconciliation produced, and
	// RevisionVerb how to say so ("fetched", "applied").
	Revision     func(meta.Object) string
	RevisionVerb string
}

func gitRepositoryKind() fluxKind {
	return fluxKind{
		Kind: sourcev1.GitRepositoryKind, Command: "source git", GetCommand: "sources git",
		New:     func() meta.Object { return &sourcev1.GitRepository{} },
		NewList: func() client.ObjectList { return &sourcev1.GitRepositoryList{} },
		Items: func(l client.ObjectList) []meta.Object {
			var out []meta.Object
			for i := range l.(*sourcev1.GitRepositoryList).Items {
				out = append(out, &l.(*sourcev1.GitRepositoryList).Items[i])
			}
			return out
		},
		SetSuspend: func(o meta.Object, s bool) { o.(*sourcev1.GitRepository).Spec.Suspend = s },
		Revision: func(o meta.Object) string {
			if a := o.(*sourcev1.GitRepository).Status.Artifact; a != nil {
				return a.Revision
			}
			return ""
		},
		RevisionVerb: "fetched",
	}
}

func kustomizationKind() fluxKind {
	return fluxKind{
		Kind: kustomizev1.KustomizationKind, Command: "kustomization", GetCommand: "kustomizations",
		New:     func() meta.Object { return &kustomizev1.Kustomization{} },
		NewList: func() client.ObjectList { return &kustomizev1.KustomizationList{} },
		Items: func(l client.ObjectList) []meta.Object {
			var out []meta.Object
			for i := range l.(*kustomizev1.KustomizationList).Items {
				out = append(out, &l.(*kustomizev1.KustomizationList).Items[i])
			}
			return out
		},
		SetSuspend:   func(o meta.Object, s bool) { o.(*kustomizev1.Kustomization).Spec.Suspend = s },
		Revision:     func(o meta.Object) string { return o.(*kustomizev1.Kustomization).Status.LastAppliedRevision },
		RevisionVerb: "applied",
	}
}

// readiness tells whether obj has finished: done with nil when it is Ready,
// done with an error when the reconciliation failed, not done otherwise.
type readiness func(obj meta.Object) (done bool, err error)

// readyAfter is the readiness of a reconciliation that handled the request
// token ("" for any reconciliation of the current generation). Ready=True
// of the current generation is success; Ready=False is failure, unless the
// controller is only waiting for a source or a dependency, which may still
// turn up.
func readyAfter(k fluxKind, token string) readiness {
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
// waiting for a dependency to be ready.
func waitingReason(reason string) bool {
	return reason == meta.DependencyNotReadyReason
}

// waitFor watches the named object until cond says it is done, the object
// is deleted, or ctx ends. Watching (not polling) sees each status change the
// moment the controller writes it.
func waitFor(ctx context.Context, c client.WithWatch, k fluxKind, key client.ObjectKey, cond readiness) (meta.Object, error) {
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

func consume(ctx context.Context, w watch.Interface, k fluxKind, key client.ObjectKey, cond readiness) (meta.Object, bool, error) {
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

func timeoutError(ctx context.Context, k fluxKind, key client.ObjectKey, last meta.Object) error {
	msg := "no status yet"
	if last != nil {
		if ready := apimeta.FindStatusCondition(last.GetConditions(), meta.ReadyCondition); ready != nil {
			msg = fmt.Sprintf("Ready=%s: %s", ready.Status, ready.Message)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out waiting for %s %s (%s); check it with 'flux get %s %s -n %s' or wait longer with --timeout",
			k.Kind, key, msg, k.GetCommand, key.Name, key.Namespace)
	}
	return ctx.Err()
}

// waitGone watches the named object until it no longer exists.
func waitGone(ctx context.Context, c client.WithWatch, k fluxKind, key client.ObjectKey) error {
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
				k.Kind, key, k.GetCommand, key.Name, key.Namespace)
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
func requestToken() string { return time.Now().Format(time.RFC3339Nano) }
