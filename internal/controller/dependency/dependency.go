// Package dependency checks dependsOn for any kind that waits for other
// objects of its own kind (Kustomization today, HelmRelease next):
// readiness by Flux's rule or a readyExpr (CEL, compiled once and bounded
// in cost and time), the cross-namespace rule, and cycle detection.
package dependency

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
	"github.com/driftless/driftless/internal/reconcile"
)

// maxWalk bounds the objects visited when looking for a cycle.
const maxWalk = 10_000

// Object is an object that may depend on others of its kind.
type Object interface {
	meta.Object
	GetDependsOn() []meta.DependencyReference
}

// Key is how a dependsOn entry of obj is indexed: namespace/name, the
// namespace defaulted to obj's.
func Key(obj client.Object, d meta.DependencyReference) string {
	ns := d.Namespace
	if ns == "" {
		ns = obj.GetNamespace()
	}
	return ns + "/" + d.Name
}

// Checker checks the dependencies of one kind's objects.
type Checker[T Object] struct {
	// Client reads the dependencies (through the shared cache).
	Client client.Reader
	// Kind names the kind in messages ("Kustomization").
	Kind string
	// New makes an empty object of the kind.
	New func() T
	// NoCrossNamespaceRefs refuses dependencies in other namespaces.
	NoCrossNamespaceRefs bool
	// Expressions is the cache of compiled readyExprs, kept by the
	// controller across passes.
	Expressions *Expressions
}

// Check fails when a dependency is missing or not ready, and stalls on a
// dependency cycle, naming it. Readiness follows Flux: the dependency
// reconciled its current generation and is Ready, and upToDate, when set,
// holds for it (a Kustomization: when it uses the same source, it applied
// the revision this one is about to). A readyExpr replaces all of that.
func (c *Checker[T]) Check(ctx context.Context, obj T, upToDate func(dep T) bool) error {
	if len(obj.GetDependsOn()) == 0 {
		return nil
	}
	if cycle, err := c.findCycle(ctx, obj); err != nil {
		return reconcile.Failed(meta.DependencyNotReadyReason, "check dependencies: %w", err)
	} else if cycle != "" {
		return reconcile.Stalling(meta.DependencyNotReadyReason,
			"dependency cycle: %s; these %ss wait for each other forever, remove one dependsOn entry", cycle, c.Kind)
	}
	for _, d := range obj.GetDependsOn() {
		key := Key(obj, d)
		ns, name, _ := strings.Cut(key, "/")
		if c.NoCrossNamespaceRefs && ns != obj.GetNamespace() {
			return reconcile.Stalling(meta.AccessDeniedReason,
				"cannot access dependency '%s', cross-namespace references have been disabled", key)
		}
		dep := c.New()
		if err := c.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dep); err != nil {
			if apierrors.IsNotFound(err) {
				return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "dependency '%s' not found", key)
			}
			return reconcile.Failed(meta.DependencyNotReadyReason, "get dependency '%s': %w", key, err)
		}
		ready, err := c.ready(ctx, obj, dep, d, upToDate)
		if err != nil {
			return err
		}
		if !ready {
			return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "dependency '%s' is not ready", key)
		}
	}
	return nil
}

func (c *Checker[T]) ready(ctx context.Context, obj, dep T, d meta.DependencyReference, upToDate func(T) bool) (bool, error) {
	if d.ReadyExpr != "" {
		return c.evalReadyExpr(ctx, d.ReadyExpr, obj, dep)
	}
	if dep.GetGeneration() != dep.GetObservedGeneration() || !reconcile.IsTrue(dep, meta.ReadyCondition) {
		return false, nil
	}
	if upToDate != nil {
		return upToDate(dep), nil
	}
	return true, nil
}

// evalReadyExpr evaluates a dependsOn readyExpr with `self` (the
// dependant) and `dep` (the dependency), under the health checks' cost and
// time limits and the reconciliation's context. A malformed expression
// stalls; a field the dependency does not have yet means not ready.
func (c *Checker[T]) evalReadyExpr(ctx context.Context, expr string, self, dep T) (bool, error) {
	e, err := c.Expressions.compile(expr)
	if err != nil {
		return false, &reconcile.StallingError{Reason: meta.InvalidCELExpressionReason, Err: fmt.Errorf("dependsOn readyExpr: %w", err)}
	}
	selfMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(self)
	if err != nil {
		return false, err
	}
	depMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(dep)
	if err != nil {
		return false, err
	}
	ready, err := e.Eval(ctx, map[string]any{"self": selfMap, "dep": depMap})
	switch {
	case health.IsMissingField(err):
		return false, nil
	case health.IsCostLimit(err), health.IsNotBool(err):
		return false, &reconcile.StallingError{Reason: meta.InvalidCELExpressionReason, Err: fmt.Errorf("dependsOn readyExpr: %w", err)}
	case err != nil:
		return false, reconcile.Failed(meta.DependencyNotReadyReason, "dependsOn readyExpr: %w", err)
	}
	return ready, nil
}
