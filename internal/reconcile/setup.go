package reconcile

import (
	"context"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/driftless/driftless/api/meta"
)

// ControllerOptions are the manager-wide settings every kind's controller takes.
type ControllerOptions struct {
	// Concurrent is the number of objects of one kind reconciled at once (--concurrent).
	Concurrent int
	Retry      RetryOptions
}

// Index is a field index over a kind's objects: the keys each object is
// found under, so that a watch on something objects depend on lists just
// the objects to reconcile (see Indexed).
type Index[T meta.Object] struct {
	Field string
	Keys  func(T) []string
}

// Watch reconciles the objects Map returns whenever an Object of another
// kind (or of the same kind: a dependency) changes, as far as Predicates
// let the change through.
type Watch struct {
	Object     client.Object
	Map        handler.MapFunc
	Predicates []predicate.Predicate
	// Settle, when set, queues the mapped requests once related changes
	// have stopped arriving (see Settle), not at each change.
	Settle *Settle
}

// Runtime is what the process gives every kind's controller; the manager
// builds it once per controller group.
type Runtime struct {
	// Events receives the events of every pass; nil records none.
	Events  EventSink
	Metrics *Metrics
	// RequeueDependency is Reconciler.RequeueDependency (--requeue-dependency).
	RequeueDependency time.Duration
	// ProgressAfter is Reconciler.ProgressAfter; 0 means DefaultProgressAfter.
	ProgressAfter time.Duration
	Controller    ControllerOptions
	// Grace, when set, lets a pass in flight outlive the controller's stop:
	// its context is not cancelled when the manager begins to shut down but
	// when Grace ends (--graceful-shutdown-timeout later). It is for kinds
	// whose work must not be cut midway: a Helm action cut by a cancelled
	// context leaves its release pending, locked to every later action.
	// Without it a pass's context ends as the manager stops, as
	// controller-runtime makes it.
	Grace context.Context
}

// Start is the one constructor of a kind's controller: it builds the
// skeleton's Reconciler for kind and, on mgr, registers the kind's field
// indexes and a controller that reconciles on a new generation or a new
// reconcile request, backs off exponentially on failure, and follows the
// kind's watches.
func Start[T meta.Object, S any](ctx context.Context, mgr ctrl.Manager, kind Kind[T, S], rt Runtime) error {
	r := &Reconciler[T, S]{
		Kind:              kind,
		Client:            mgr.GetClient(),
		Fresh:             mgr.GetAPIReader(),
		Events:            rt.Events,
		Metrics:           rt.Metrics,
		Jitter:            rt.Controller.Retry.Jitter,
		ProgressAfter:     rt.ProgressAfter,
		RequeueDependency: rt.RequeueDependency,
	}
	for _, ix := range kind.Indexes {
		keys := ix.Keys
		if err := mgr.GetFieldIndexer().IndexField(ctx, kind.New(), ix.Field, func(o client.Object) []string {
			return keys(o.(T))
		}); err != nil {
			return fmt.Errorf("%s: index %s: %w", kind.Name, ix.Field, err)
		}
	}
	concurrent := rt.Controller.Concurrent
	if concurrent <= 0 {
		concurrent = 1
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(kind.Name).
		For(kind.New(), builder.WithPredicates(ReconcileTriggers())).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: concurrent,
			RateLimiter:             rt.Controller.Retry.RateLimiter(),
		})
	for _, w := range kind.Watches {
		var h handler.EventHandler = handler.EnqueueRequestsFromMapFunc(w.Map)
		if w.Settle != nil {
			h = newSettling(w.Map, *w.Settle)
		}
		b = b.Watches(w.Object, h, builder.WithPredicates(w.Predicates...))
	}
	for _, src := range kind.Sources {
		b = b.WatchesRawSource(src)
	}
	if rt.Grace != nil {
		return b.Complete(outliving{next: r, grace: rt.Grace})
	}
	return b.Complete(r)
}

// outliving runs each pass on a context that the manager's stop does not
// cancel: controller-runtime derives a pass's context from the
// controller's, which it cancels the moment the process is told to stop,
// and then waits up to its graceful shutdown timeout for the pass to
// return. The pass keeps the values and any deadline of its context, and
// ends when grace does.
type outliving struct {
	next interface {
		Reconcile(context.Context, ctrl.Request) (ctrl.Result, error)
	}
	grace context.Context
}

func (o outliving) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pass, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if deadline, ok := ctx.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		pass, cancelDeadline = context.WithDeadline(pass, deadline)
		defer cancelDeadline()
	}
	defer context.AfterFunc(o.grace, cancel)()
	return o.next.Reconcile(pass, req)
}
