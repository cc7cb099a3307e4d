package helmrelease

// Drift on watch events (beyond Flux, which finds drift at the interval
// only): the objects of the releases whose driftDetection is warn or
// enabled are watched through informers shared by every release (one per
// kind, internal/engine/helmdrift's Watcher), and an edit or a deletion
// reconciles the release at once.

import (
	"context"
	"strings"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/apply"
	"github.com/driftless/driftless/internal/engine/helmdrift"
	"github.com/driftless/driftless/internal/reconcile"
)

// driftTriggerGap is the shortest time between two passes of one release
// triggered by the edits of its objects. A correction cannot trigger
// itself (the Watcher leaves out helm-controller's own writes), but
// another controller that keeps changing a field back would otherwise
// fight the correction as fast as both can write; with the gap, it is
// one pass every few seconds at most. Edits within the gap are gathered
// into one pass at its end.
const driftTriggerGap = 3 * time.Second

// driftWatch turns the Watcher's edits into reconcile requests.
type driftWatch struct {
	watcher *helmdrift.Watcher
	mapper  apimeta.RESTMapper
	// allNamespaces watches each kind in every namespace with one
	// informer; otherwise one per kind and namespace (a controller
	// confined to namespaces may not list cluster-wide).
	allNamespaces bool
	events        chan event.GenericEvent

	mu      sync.Mutex
	last    map[types.NamespacedName]time.Time
	pending map[types.NamespacedName]bool
}

// WatchDrift makes edits and deletions of released objects reconcile
// their release at once when its driftDetection is warn or enabled. The
// informers list and watch with client (the controller's own identity),
// only objects carrying the post-renderer's origin label; mapper finds the
// resources of the inventory's kinds. Call it before Kind.
func (r *Reconciler) WatchDrift(client dynamic.Interface, mapper apimeta.RESTMapper, allNamespaces bool) {
	dw := &driftWatch{mapper: mapper, allNamespaces: allNamespaces,
		events: make(chan event.GenericEvent, 1024),
		last:   map[types.NamespacedName]time.Time{}, pending: map[types.NamespacedName]bool{}}
	dw.watcher = helmdrift.NewWatcher(client, func(e helmdrift.Edit) { r.onDriftEdit(e) },
		helmdrift.WatcherOptions{Selector: helmv2.NameLabel, Log: r.Log.WithName("drift-watch")})
	r.drift = dw
}

// driftSources is the Kind's source of the requests WatchDrift makes.
func (r *Reconciler) driftSources() []source.Source {
	if r.drift == nil {
		return nil
	}
	return []source.Source{source.Channel(r.drift.events, &handler.EnqueueRequestForObject{})}
}

// watchReleasedObjects makes the drift watch follow the kinds of obj's
// inventory, or let go of them when drift detection is disabled.
func (r *Reconciler) watchReleasedObjects(obj *helmv2.HelmRelease) {
	dw := r.drift
	if dw == nil {
		return
	}
	user := obj.Namespace + "/" + obj.Name
	if !driftWatched(obj) {
		dw.watcher.Set(user, nil)
		return
	}
	var resources []helmdrift.Resource
	for _, e := range obj.Status.Inventory.Entries {
		ref, err := apply.ParseID(e.ID, e.Version)
		if err != nil {
			continue
		}
		m, err := dw.mapper.RESTMapping(ref.GroupKind(), ref.Version)
		if err != nil {
			r.Log.V(1).Info("no drift watch for a kind the API server does not serve", "kind", ref.GroupVersionKind().String(), "error", err.Error())
			continue
		}
		res := helmdrift.Resource{GVR: m.Resource}
		if !dw.allNamespaces && m.Scope.Name() == apimeta.RESTScopeNameNamespace {
			res.Namespace = ref.Namespace
		}
		resources = append(resources, res)
	}
	dw.watcher.Set(user, resources)
}

// driftWatched tells whether obj's released objects are watched for
// drift: drift detection on, an inventory, and the local cluster (a
// release on a remote one, through kubeConfig, is checked at its
// interval: the informers watch the local cluster only).
func driftWatched(obj *helmv2.HelmRelease) bool {
	return obj.GetDriftDetectionMode() != helmv2.DriftDetectionDisabled && obj.Status.Inventory != nil && obj.Spec.KubeConfig == nil
}

// forgetReleasedObjects lets go of a deleted HelmRelease's watches.
func (r *Reconciler) forgetReleasedObjects(obj *helmv2.HelmRelease) {
	if r.drift == nil {
		return
	}
	r.drift.watcher.Set(obj.Namespace+"/"+obj.Name, nil)
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	r.drift.mu.Lock()
	delete(r.drift.last, key)
	r.drift.mu.Unlock()
}

// onDriftEdit reconciles the release an edited object belongs to, if the
// object is in that release's inventory (labels are anyone's to write:
// a tenant labelling its objects with another release's name triggers
// nothing), the release checks drift and is Ready, and the object has not
// opted out.
func (r *Reconciler) onDriftEdit(e helmdrift.Edit) {
	key := types.NamespacedName{Namespace: e.Labels[helmv2.NamespaceLabel], Name: e.Labels[helmv2.NameLabel]}
	if key.Name == "" || key.Namespace == "" || optedOutOfDrift(e) {
		return
	}
	hr := &helmv2.HelmRelease{}
	if err := r.Client.Get(context.Background(), key, hr); err != nil {
		return
	}
	// A release that is not Ready is retried by its back-off or its
	// remediation's schedule; edits of its objects must not retry it
	// sooner.
	if hr.Spec.Suspend || hr.GetDriftDetectionMode() == helmv2.DriftDetectionDisabled ||
		!reconcile.IsTrue(hr, meta.ReadyCondition) || !inInventory(hr, e) {
		return
	}
	r.drift.trigger(hr)
}

// optedOutOfDrift tells whether the object carries
// helm.toolkit.fluxcd.io/driftDetection: disabled, as a label or an
// annotation.
func optedOutOfDrift(e helmdrift.Edit) bool {
	for _, m := range []map[string]string{e.Annotations, e.Labels} {
		if v, ok := m[helmdrift.OptOutKey]; ok && strings.EqualFold(v, "disabled") {
			return true
		}
	}
	return false
}

func inInventory(hr *helmv2.HelmRelease, e helmdrift.Edit) bool {
	if hr.Status.Inventory == nil {
		return false
	}
	id := apply.ObjectRef{Group: e.GVK.Group, Kind: e.GVK.Kind, Namespace: e.Namespace, Name: e.Name}.ID()
	for _, entry := range hr.Status.Inventory.Entries {
		if entry.ID == id {
			return true
		}
	}
	return false
}

// trigger sends hr to the controller now, or at the end of the gap after
// the last time, once.
func (dw *driftWatch) trigger(hr *helmv2.HelmRelease) {
	key := types.NamespacedName{Namespace: hr.Namespace, Name: hr.Name}
	dw.mu.Lock()
	if dw.pending[key] {
		dw.mu.Unlock()
		return
	}
	wait := time.Until(dw.last[key].Add(driftTriggerGap))
	if wait <= 0 {
		dw.last[key] = time.Now()
		dw.mu.Unlock()
		dw.events <- event.GenericEvent{Object: hr}
		return
	}
	dw.pending[key] = true
	dw.mu.Unlock()
	time.AfterFunc(wait, func() {
		dw.mu.Lock()
		delete(dw.pending, key)
		dw.last[key] = time.Now()
		dw.mu.Unlock()
		dw.events <- event.GenericEvent{Object: hr}
	})
}
