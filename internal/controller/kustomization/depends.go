package kustomization

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/runtime"
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
		return runtime.Failed(meta.DependencyNotReadyReason, "check dependencies: %w", err)
	} else if cycle != "" {
		return runtime.Stalling(meta.DependencyNotReadyReason,
			"dependency cycle: %s; these Kustomizations wait for each other forever, remove one dependsOn entry", cycle)
	}
	for _, d := range obj.Spec.DependsOn {
		key := dependencyKey(obj, d)
		ns, name, _ := strings.Cut(key, "/")
		if r.NoCrossNamespaceRefs && ns != obj.Namespace {
			return runtime.Stalling(meta.AccessDeniedReason,
				"cannot access dependency '%s', cross-namespace references have been disabled", key)
		}
		dep := &kustomizev1.Kustomization{}
		if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, dep); err != nil {
			if apierrors.IsNotFound(err) {
				return runtime.Waiting(meta.DependencyNotReadyReason, r.requeueDependency(), "dependency '%s' not found", key)
			}
			return runtime.Failed(meta.DependencyNotReadyReason, "get dependency '%s': %w", key, err)
		}
		ready, err := r.dependencyReady(obj, dep, d, src)
		if err != nil {
			return err
		}
		if !ready {
			return runtime.Waiting(meta.DependencyNotReadyReason, r.requeueDependency(), "dependency '%s' is not ready", key)
		}
	}
	return nil
}

func (r *Reconciler) dependencyReady(obj, dep *kustomizev1.Kustomization, d meta.DependencyReference, src artifactSource) (bool, error) {
	if d.ReadyExpr != "" {
		return evalReadyExpr(d.ReadyExpr, obj, dep)
	}
	if dep.Generation != dep.Status.ObservedGeneration || !runtime.IsTrue(dep, meta.ReadyCondition) {
		return false, nil
	}
	if sourceKey(dep) == sourceKey(obj) && src.GetArtifact() != nil {
		return dep.Status.LastAppliedRevision == src.GetArtifact().Revision, nil
	}
	return true, nil
}

// evalReadyExpr evaluates a dependsOn readyExpr with `self` (this
// Kustomization) and `dep` (the dependency). A malformed expression stalls.
func evalReadyExpr(expr string, self, dep *kustomizev1.Kustomization) (bool, error) {
	env, err := cel.NewEnv(cel.Variable("self", cel.DynType), cel.Variable("dep", cel.DynType))
	if err != nil {
		return false, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return false, runtime.Stalling(meta.InvalidCELExpressionReason, "invalid readyExpr '%s': %v", expr, iss.Err())
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return false, runtime.Stalling(meta.InvalidCELExpressionReason, "readyExpr '%s' must return a bool, not %s", expr, ast.OutputType())
	}
	prg, err := env.Program(ast)
	if err != nil {
		return false, runtime.Stalling(meta.InvalidCELExpressionReason, "invalid readyExpr '%s': %v", expr, err)
	}
	selfMap, err := k8sruntime.DefaultUnstructuredConverter.ToUnstructured(self)
	if err != nil {
		return false, err
	}
	depMap, err := k8sruntime.DefaultUnstructuredConverter.ToUnstructured(dep)
	if err != nil {
		return false, err
	}
	out, _, err := prg.Eval(map[string]any{"self": selfMap, "dep": depMap})
	if err != nil {
		// A field the dependency does not have yet: not ready, not an error.
		return false, nil
	}
	ready, ok := out.Value().(bool)
	if !ok {
		return false, runtime.Stalling(meta.InvalidCELExpressionReason, "readyExpr '%s' returned %v, not a bool", expr, out.Value())
	}
	return ready, nil
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
