package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

func kustomizationsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
}

func gitRepositoriesGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
}

func deploymentsGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
}

// resourceOf maps the kinds the workloads generate to their resources.
func resourceOf(apiVersion, kind string) (schema.GroupVersionResource, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupVersionResource{}, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	switch kind {
	case "Ingress":
		return gv.WithResource("ingresses"), nil
	case "OCIRepository":
		return gv.WithResource("ocirepositories"), nil
	case "HelmRepository":
		return gv.WithResource("helmrepositories"), nil
	case "HelmChart":
		return gv.WithResource("helmcharts"), nil
	case "HelmRelease":
		return gv.WithResource("helmreleases"), nil
	case "CustomResourceDefinition":
		return gv.WithResource("customresourcedefinitions"), nil
	case "ImageRepository":
		return gv.WithResource("imagerepositories"), nil
	case "ImagePolicy":
		return gv.WithResource("imagepolicies"), nil
	case "ImageUpdateAutomation":
		return gv.WithResource("imageupdateautomations"), nil
	case "ServiceAccount", "Service", "ConfigMap", "Secret", "Namespace", "Deployment", "GitRepository", "Kustomization":
		return gv.WithResource(strings.ToLower(kind) + "s"), nil
	}
	return schema.GroupVersionResource{}, fmt.Errorf("no resource known for kind %s", kind)
}

// tracker keeps the latest state of the objects of one resource from a
// watch, and wakes waiters whenever one changes: readiness is read from
// watch events, never by polling each object.
type tracker struct {
	mu      sync.Mutex
	objects map[string]*unstructured.Unstructured // by namespace/name
	changed chan struct{}
	stop    context.CancelFunc
}

// newTracker watches gvr in namespace ("" for all) and returns once the
// first list is in.
func newTracker(ctx context.Context, client dynamic.Interface, gvr schema.GroupVersionResource, namespace string) (*tracker, error) {
	ctx, cancel := context.WithCancel(ctx)
	t := &tracker{objects: map[string]*unstructured.Unstructured{}, changed: make(chan struct{}, 1), stop: cancel}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, 0, namespace, nil)
	inf := factory.ForResource(gvr).Informer()
	set := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		t.mu.Lock()
		t.objects[u.GetNamespace()+"/"+u.GetName()] = u
		t.mu.Unlock()
		t.wake()
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				t.mu.Lock()
				delete(t.objects, u.GetNamespace()+"/"+u.GetName())
				t.mu.Unlock()
				t.wake()
			}
		},
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("watch %s: %w", gvr.Resource, err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		cancel()
		return nil, fmt.Errorf("watch %s: cache did not sync", gvr.Resource)
	}
	return t, nil
}

func (t *tracker) wake() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *tracker) close() { t.stop() }

// get returns the last state seen of key (namespace/name), nil if none.
func (t *tracker) get(key string) *unstructured.Unstructured {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.objects[key]
}

// allReady tells whether ready holds for every key now.
func (t *tracker) allReady(keys []string, ready func(*unstructured.Unstructured) bool) bool {
	return len(t.pending(keys, ready)) == 0
}

// pollUntil checks done every 50 ms until it holds, at most timeout: for
// conditions over several trackers, which no single tracker's events wake.
func pollUntil(ctx context.Context, timeout time.Duration, what string, done func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%s: not done after %s", what, timeout)
		}
	}
	return nil
}

// waitAll waits until ready has held for every key (namespace/name), at most
// timeout. On timeout the error lists the objects not ready, with what
// their Ready condition says.
func (t *tracker) waitAll(ctx context.Context, keys []string, ready func(*unstructured.Unstructured) bool, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	pending := keys
	for {
		// Only the keys not ready yet are checked again: the benchmark
		// shares the machine with what it measures, and scanning every key
		// on every event cost it seconds of CPU at N=1000.
		if pending = t.pending(pending, ready); len(pending) == 0 {
			return nil
		}
		select {
		case <-t.changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("%d of %d not ready after %s:\n%s", len(pending), len(keys), timeout, t.describe(pending, 20))
		}
	}
}

func (t *tracker) pending(keys []string, ready func(*unstructured.Unstructured) bool) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, k := range keys {
		if o := t.objects[k]; o == nil || !ready(o) {
			out = append(out, k)
		}
	}
	return out
}

// describe lists up to max of keys with their Ready condition.
func (t *tracker) describe(keys []string, max int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for i, k := range keys {
		if i == max {
			fmt.Fprintf(&b, "  ... and %d more\n", len(keys)-max)
			break
		}
		o := t.objects[k]
		if o == nil {
			fmt.Fprintf(&b, "  %s: not found\n", k)
			continue
		}
		status, reason, message := condition(o, "Ready")
		if status == "" {
			status, reason, message = condition(o, "Available")
		}
		if status == "" {
			fmt.Fprintf(&b, "  %s: no Ready condition yet\n", k)
			continue
		}
		fmt.Fprintf(&b, "  %s: Ready=%s %s: %s", k, status, reason, message)
		if rev, _, _ := unstructured.NestedString(o.Object, "status", "lastAppliedRevision"); rev != "" {
			fmt.Fprintf(&b, " (last applied %s)", rev)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// condition returns the status, reason and message of condition typ.
func condition(o *unstructured.Unstructured, typ string) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != typ {
			continue
		}
		s, _ := m["status"].(string)
		r, _ := m["reason"].(string)
		msg, _ := m["message"].(string)
		return s, r, msg
	}
	return "", "", ""
}

func observedCurrent(o *unstructured.Unstructured) bool {
	g, _, _ := unstructured.NestedInt64(o.Object, "status", "observedGeneration")
	return g == o.GetGeneration()
}

// readyAt says a Flux object is Ready, done reconciling its current spec,
// at a revision whose commit is hash. Kustomizations report it as
// lastAppliedRevision, sources as their artifact's revision.
func readyAt(hash string) func(*unstructured.Unstructured) bool {
	return func(o *unstructured.Unstructured) bool {
		if s, _, _ := condition(o, "Ready"); s != "True" || !observedCurrent(o) {
			return false
		}
		if s, _, _ := condition(o, "Reconciling"); s == "True" {
			return false
		}
		rev, _, _ := unstructured.NestedString(o.Object, "status", "lastAppliedRevision")
		switch o.GetKind() {
		case "GitRepository", "OCIRepository", "HelmRepository", "HelmChart":
			rev, _, _ = unstructured.NestedString(o.Object, "status", "artifact", "revision")
		}
		return strings.HasSuffix(rev, ":"+hash) || rev == hash
	}
}

// deploymentAvailable says a Deployment has rolled out its current spec and
// is Available.
func deploymentAvailable(o *unstructured.Unstructured) bool {
	s, _, _ := condition(o, "Available")
	if s != "True" || !observedCurrent(o) {
		return false
	}
	want, found, _ := unstructured.NestedInt64(o.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	updated, _, _ := unstructured.NestedInt64(o.Object, "status", "updatedReplicas")
	return updated == want
}

// keysOf returns namespace/name of objs, sorted.
func keysOf(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetNamespace()+"/"+o.GetName())
	}
	slices.Sort(out)
	return out
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt on a GitRepository.
func requestReconcile(ctx context.Context, client dynamic.Interface, name string) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
	_, err := client.Resource(gitRepositoriesGVR()).Namespace(fleetNamespace).Patch(ctx, name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("request reconcile of GitRepository %s: %w", name, err)
	}
	return nil
}
