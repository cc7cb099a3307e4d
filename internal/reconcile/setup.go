package reconcile

import (
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
)

// ControllerOptions are the manager-wide settings every kind's controller takes.
type ControllerOptions struct {
	// Concurrent is the number of objects of one kind reconciled at once (--concurrent).
	Concurrent int
	Retry      RetryOptions
}

// Builder starts the controller of r's kind on mgr: it reconciles on a new
// generation or a new reconcile request, backs off exponentially on failure,
// and lets the caller add the watches of what the kind depends on.
func (r *Reconciler[T, S]) Builder(mgr ctrl.Manager, opts ControllerOptions) *builder.Builder {
	if r.Jitter == nil {
		r.Jitter = opts.Retry.Jitter
	}
	concurrent := opts.Concurrent
	if concurrent <= 0 {
		concurrent = 1
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(r.Kind.Name).
		For(r.Kind.New(), builder.WithPredicates(ReconcileTriggers())).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: concurrent,
			RateLimiter:             opts.Retry.RateLimiter(),
		})
}
