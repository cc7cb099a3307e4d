package helmkube

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/dynamic"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/health"
)

// DefaultTimeout bounds a wait Helm asks for with no timeout, as Helm's own
// watcher does.
const DefaultTimeout = 30 * time.Second

// Waiter is Helm's kube.Waiter on health's Checker: every object is
// re-evaluated on each watch event that touches it, and a wait ends as soon
// as every object is ready, as soon as one fails, or at its timeout, the
// error naming each object not ready and why.
type Waiter struct {
	checker   *health.Checker
	mapper    apimeta.RESTMapper
	dynamic   dynamic.Interface
	ctx       context.Context
	checks    []meta.CustomHealthCheck
	hooksOnly bool
}

var _ kube.Waiter = (*Waiter)(nil)

// hookPodCheck makes a hook Pod ready only once it has succeeded, as Helm
// requires of hooks; a Running Pod is not done.
var hookPodCheck = meta.CustomHealthCheck{
	APIVersion: "v1",
	Kind:       "Pod",
	HealthCheckExpressions: meta.HealthCheckExpressions{
		Current: "status.phase == 'Succeeded'",
		Failed:  "status.phase == 'Failed'",
	},
}

// Wait waits for the objects to be ready with health's rules and the
// configuration's health check expressions. Jobs are not waited for (as
// Helm without --wait-for-jobs), nor paused Deployments. With the hook-only
// strategy it returns at once.
func (w *Waiter) Wait(resources kube.ResourceList, timeout time.Duration) error {
	if w.hooksOnly {
		return nil
	}
	return w.wait(w.refs(resources, false), timeout, w.checks)
}

// WaitWithJobs is Wait that also waits for Jobs to complete, failing when one
// fails.
func (w *Waiter) WaitWithJobs(resources kube.ResourceList, timeout time.Duration) error {
	if w.hooksOnly {
		return nil
	}
	return w.wait(w.refs(resources, true), timeout, w.checks)
}

// WatchUntilReady waits for hook objects: a Job until it completes, a Pod
// until it succeeds; either failing ends the wait at once. Other kinds are
// ready once created, as Helm has it.
func (w *Waiter) WatchUntilReady(resources kube.ResourceList, timeout time.Duration) error {
	var refs []health.ObjectRef
	for _, info := range resources {
		gvk := kindOf(info)
		switch gvk.GroupKind() {
		case schema.GroupKind{Group: "batch", Kind: "Job"}, schema.GroupKind{Kind: "Pod"}:
			refs = append(refs, refOf(info, gvk))
		}
	}
	return w.wait(refs, timeout, []meta.CustomHealthCheck{hookPodCheck})
}

// WaitForDelete waits until every object is gone; see waitDeleted. With the
// hook-only strategy it returns at once, as Helm's does.
func (w *Waiter) WaitForDelete(resources kube.ResourceList, timeout time.Duration) error {
	if w.hooksOnly {
		return nil
	}
	ctx, cancel := w.context(timeout)
	defer cancel()
	return w.waitDeleted(ctx, resources, timeout)
}

func (w *Waiter) context(timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return context.WithTimeout(w.ctx, timeout)
}

// wait runs the Checker over refs. The timeout goes to the Checker, which
// then reports a *health.TimeoutError naming what is not ready.
func (w *Waiter) wait(refs []health.ObjectRef, timeout time.Duration, checks []meta.CustomHealthCheck) error {
	if len(refs) == 0 {
		return nil
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	_, err := w.checker.Wait(w.ctx, refs, health.WaitOptions{Timeout: timeout, CustomChecks: checks})
	return err
}

// refs names the objects a wait covers, with the resourceVersion Helm's
// write returned, so that a watch cache still holding an older version is
// not read as the result.
func (w *Waiter) refs(resources kube.ResourceList, jobs bool) []health.ObjectRef {
	var refs []health.ObjectRef
	for _, info := range resources {
		gvk := kindOf(info)
		switch gvk.GroupKind() {
		case schema.GroupKind{Group: "batch", Kind: "Job"}:
			if !jobs {
				continue
			}
		case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
			if paused(info) {
				continue
			}
		}
		refs = append(refs, refOf(info, gvk))
	}
	return refs
}

func kindOf(info *resource.Info) schema.GroupVersionKind {
	if info.Mapping != nil {
		return info.Mapping.GroupVersionKind
	}
	if info.Object != nil {
		return info.Object.GetObjectKind().GroupVersionKind()
	}
	return schema.GroupVersionKind{}
}

func refOf(info *resource.Info, gvk schema.GroupVersionKind) health.ObjectRef {
	return health.ObjectRef{
		Group:           gvk.Group,
		Version:         gvk.Version,
		Kind:            gvk.Kind,
		Namespace:       info.Namespace,
		Name:            info.Name,
		ResourceVersion: info.ResourceVersion,
		DoneWhenGone:    gvk.GroupKind() == schema.GroupKind{Group: "batch", Kind: "Job"} && hasTTL(info),
	}
}

// hasTTL tells a Job with ttlSecondsAfterFinished: the TTL controller may
// remove it as soon as it finishes, before a wait has seen it done. Helm
// has just written it, so not finding it means it finished and went; as
// with Helm's own waiter, a wait that never saw it cannot tell a success
// from a failure (one that saw its deletion can, and does).
func hasTTL(info *resource.Info) bool {
	u, ok := asUnstructured(info)
	if !ok {
		return false
	}
	_, found, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "ttlSecondsAfterFinished")
	return found
}

// paused tells a Deployment with spec.paused: Helm does not wait for one.
func paused(info *resource.Info) bool {
	u, ok := asUnstructured(info)
	if !ok {
		return false
	}
	p, _, _ := unstructured.NestedBool(u.Object, "spec", "paused")
	return p
}

// asUnstructured is info's object as unstructured data, converted when
// Helm built a typed one; false when it cannot be.
func asUnstructured(info *resource.Info) (*unstructured.Unstructured, bool) {
	if u, ok := info.Object.(*unstructured.Unstructured); ok {
		return u, true
	}
	u, err := toUnstructured(info)
	return u, err == nil
}

func toUnstructured(info *resource.Info) (*unstructured.Unstructured, error) {
	if info.Object == nil {
		return nil, fmt.Errorf("%s has no object", info.ObjectName())
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(info.Object)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", info.ObjectName(), err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}
