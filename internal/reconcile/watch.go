package reconcile

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/driftless/driftless/api/meta"
)

// ArtifactSource is an object that publishes an artifact in its status.
type ArtifactSource interface {
	client.Object
	GetArtifact() *meta.Artifact
}

// ArtifactChanged passes the updates of a source whose artifact appeared,
// went away, or changed its digest, revision or URL: what a consumer of the
// artifact must react to (a consumer that refused or could not reach the
// old URL tries the new one). Creations and deletions pass as asked: a
// Kustomization reacts to a source that appears, a GitRepository that
// includes another to one that goes.
func ArtifactChanged(onCreate, onDelete bool) predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return onCreate },
		DeleteFunc:  func(event.DeleteEvent) bool { return onDelete },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(ArtifactSource)
			n, ok2 := e.ObjectNew.(ArtifactSource)
			if !ok1 || !ok2 {
				return false
			}
			a, b := o.GetArtifact(), n.GetArtifact()
			if a == nil || b == nil {
				return (a == nil) != (b == nil)
			}
			return a.Digest != b.Digest || a.Revision != b.Revision || a.URL != b.URL
		},
	}
}

// Indexed lists the objects of list's kind that opts select (a field index
// of the kind, say) as requests: what a watch of something they depend on
// enqueues. A failed list is logged and enqueues nothing.
func Indexed(ctx context.Context, c client.Reader, list client.ObjectList, opts ...client.ListOption) []ctrl.Request {
	if err := c.List(ctx, list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "list dependants for a watch event")
		return nil
	}
	items, err := apimeta.ExtractList(list)
	if err != nil {
		log.FromContext(ctx).Error(err, "read the dependants of a watch event")
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(items))
	for _, item := range items {
		if o, ok := item.(client.Object); ok {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		}
	}
	return reqs
}

// ConfigKey is the field-index key of a ConfigMap or Secret an object
// reads in its own namespace: "ConfigMap/<name>" or "Secret/<name>".
func ConfigKey(kind, name string) string { return kind + "/" + name }

// ConfigWatches reconcile the objects that read a ConfigMap or Secret when
// it changes: newList makes a list of their kind, field is their index of
// ConfigKey keys. The shared cache holds only the ConfigMaps and Secrets
// that --watch-configs-label-selector selects (manager.WatchedConfigs), so
// only those trigger; values are still read from the API server.
func ConfigWatches(c client.Reader, newList func() client.ObjectList, field string) []Watch {
	referrers := func(kind string) handler.MapFunc {
		return func(ctx context.Context, o client.Object) []ctrl.Request {
			return Indexed(ctx, c, newList(), client.InNamespace(o.GetNamespace()),
				client.MatchingFields{field: ConfigKey(kind, o.GetName())})
		}
	}
	return []Watch{
		{Object: &corev1.ConfigMap{}, Map: referrers("ConfigMap")},
		{Object: &corev1.Secret{}, Map: referrers("Secret")},
	}
}
