package kustomization

import (
	"context"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/health"
	"github.com/driftless/driftless/internal/reconcile"
)

// maxDependencyWalk bounds the objects visited when looking for a cycle.
const maxDependencyWalk = 10_000

// dependencyKey is how dependsOn entries are indexed: namespace/name.
func dependencyKey(obj *kustomizev1.Kustomization, d meta.DependencyReference) string {
	ns := d.Namespace
	if ns == "" {
		ns = obj.Namespace
	}
	return ns + "/" + d.Name
}

// checkDependencies fails when a dependency is missing or not ready, and
// stalls on a dependency cycle, naming it. Readiness follows Flux: the
// dependency reconciled its current generation, is Ready, and when it uses
// the same source it applied the revision this Kustomization is about to.
func (r *Reconciler) checkDependencies(ctx context.Context, obj *kustomizev1.Kustomization, src artifactSource) error {
	if len(obj.Spec.DependsOn) == 0 {
		return nil
	}
	if cycle, err := r.findCycle(ctx, obj); err != nil {
		return reconcile.Failed(meta.DependencyNotReadyReason, "check dependencies: %w", err)
	} else if cycle != "" {
		return reconcile.Stalling(meta.DependencyNotReadyReason,
			"dependency cycle: %s; these Kustomizations wait for each other forever, remove one dependsOn entry", cycle)
	}
	for _, d := range obj.Spec.DependsOn {
		key := dependencyKey(obj, d)
		ns, name, _ := strings.Cut(key, "/")
		if r.NoCrossNamespaceRefs && ns != obj.Namespace {
			return reconcile.Stalling(meta.AccessDeniedReason,
				"cannot access dependency '%s', cross-namespace references have been disabled", key)
		}
		dep := &kustomizev1.Kustomization{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dep); err != nil {
			if apierrors.IsNotFound(err) {
				return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "dependency '%s' not found", key)
			}
			return reconcile.Failed(meta.DependencyNotReadyReason, "get dependency '%s': %w", key, err)
		}
		ready, err := r.dependencyReady(ctx, obj, dep, d, src)
		if err != nil {
			return err
		}
		if !ready {
			return reconcile.Waiting(meta.DependencyNotReadyReason, 0, "dependency '%s' is not ready", key)
		}
	}
	return nil
}

func (r *Reconciler) dependencyReady(ctx context.Context, obj, dep *kustomizev1.Kustomization, d meta.DependencyReference, src artifactSource) (bool, error) {
	if d.ReadyExpr != "" {
		return r.evalReadyExpr(ctx, d.ReadyExpr, obj, dep)
	}
	if dep.Generation != dep.Status.ObservedGeneration || !reconcile.IsTrue(dep, meta.ReadyCondition) {
		return false, nil
	}
	if sourceKey(dep) == sourceKey(obj) && src.GetArtifact() != nil {
		return dep.Status.LastAppliedRevision == src.GetArtifact().Revision, nil
	}
	return true, nil
}

// evalReadyExpr evaluates a dependsOn readyExpr with `self` (this
// Kustomization) and `dep` (the dependency), under the health checks' cost
// and time limits and the reconciliation's context. A malformed expression
// stalls; a field the dependency does not have yet means not ready.
func (r *Reconciler) evalReadyExpr(ctx context.Context, expr string, self, dep *kustomizev1.Kustomization) (bool, error) {
	e, err := r.readyExprs.compile(expr)
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

// expressions compiles readyExprs once each and keeps them, at most
// maxExpressions of them: a tenant writing ever new expressions makes the
// cache start over, not grow.
type expressions struct {
	mu    sync.Mutex
	cache map[string]*health.BoolExpression
}

const maxExpressions = 1024

func (x *expressions) compile(expr string) (*health.BoolExpression, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.cache[expr]; ok {
		return e, nil
	}
	e, err := health.CompileBool(expr, "self", "dep")
	if err != nil {
		return nil, err
	}
	if x.cache == nil || len(x.cache) >= maxExpressions {
		x.cache = map[string]*health.BoolExpression{}
	}
	x.cache[expr] = e
	return e, nil
}

// findCycle walks dependsOn edges from obj and returns the cycle through
// obj, "ns/a -> ns/b -> ns/a", or "" when there is none.
func (r *Reconciler) findCycle(ctx context.Context, obj *kustomizev1.Kustomization) (string, error) {
	start := obj.Namespace + "/" + obj.Name
	edges := func(key string) ([]string, error) {
		k := obj
		if key != start {
			ns, name, _ := strings.Cut(key, "/")
			k = &kustomizev1.Kustomization{}
			if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, k); err != nil {
				if apierrors.IsNotFound(err) {
					return nil, nil
				}
				return nil, err
			}
		}
		var out []string
		for _, d := range k.Spec.DependsOn {
			out = append(out, dependencyKey(k, d))
		}
		return out, nil
	}
	visited := map[string]bool{}
	var path []string
	var walk func(key string) (bool, error)
	walk = func(key string) (bool, error) {
		if len(visited) > maxDependencyWalk {
			return false, fmt.Errorf("more than %d Kustomizations in the dependency graph", maxDependencyWalk)
		}
		path = append(path, key)
		next, err := edges(key)
		if err != nil {
			return false, err
		}
		for _, n := range next {
			if n == start {
				path = append(path, n)
				return true, nil
			}
			if visited[n] {
				continue
			}
			visited[n] = true
			if found, err := walk(n); found || err != nil {
				return found, err
			}
		}
		path = path[:len(path)-1]
		return false, nil
	}
	found, err := walk(start)
	if err != nil || !found {
		return "", err
	}
	return strings.Join(path, " -> "), nil
}
