// Package eventsource reads the Kubernetes Events about one object for the
// web UI's object page: a List and a Watch of core/v1 Events narrowed by a
// field selector on the involved object, so that the API server sends only
// that object's events and no informer holds every Event of the cluster.
package eventsource

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/driftless/driftless/internal/kinds"
)

// Source reads Events with one clientset: the controller's in the cluster
// (where the UI checks the viewer's RBAC before every read), the user's
// own for `flux ui` (where the API server does). It implements
// web.EventSource.
type Source struct {
	kube kubernetes.Interface
}

// New returns the Source over kube.
func New(kube kubernetes.Interface) *Source { return &Source{kube: kube} }

// Selector is the field selector that asks the API server for the events
// of involved only.
func Selector(involved kinds.Ref) string {
	return fields.SelectorFromSet(fields.Set{
		"involvedObject.kind":      involved.Kind,
		"involvedObject.name":      involved.Name,
		"involvedObject.namespace": involved.Namespace,
	}).String()
}

// Matches tells whether e is about involved. The selector already asks
// for that; this check is for readers that ignore selectors (the fake
// clientsets of tests, a proxy that drops them), so that they cannot show
// another object's events.
func Matches(e *corev1.Event, involved kinds.Ref) bool {
	ref := e.InvolvedObject
	return ref.Kind == involved.Kind && ref.Name == involved.Name && ref.Namespace == involved.Namespace
}

// List returns the events about involved, in its namespace, in no order.
func (s *Source) List(ctx context.Context, involved kinds.Ref) ([]corev1.Event, error) {
	list, err := s.kube.CoreV1().Events(involved.Namespace).List(ctx, metav1.ListOptions{FieldSelector: Selector(involved)})
	if err != nil {
		return nil, fmt.Errorf("list the events of %s %s/%s: %w", involved.Kind, involved.Namespace, involved.Name, err)
	}
	out := make([]corev1.Event, 0, len(list.Items))
	for i := range list.Items {
		if Matches(&list.Items[i], involved) {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}

// Watch watches the events about involved from now: as the API server
// does for a watch without a resource version, it first sends the events
// that exist as Added. Events about other objects are dropped; errors and
// bookmarks pass. The caller stops the watch (or ends ctx).
func (s *Source) Watch(ctx context.Context, involved kinds.Ref) (watch.Interface, error) {
	w, err := s.kube.CoreV1().Events(involved.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: Selector(involved)})
	if err != nil {
		return nil, fmt.Errorf("watch the events of %s %s/%s: %w", involved.Kind, involved.Namespace, involved.Name, err)
	}
	return watch.Filter(w, func(in watch.Event) (watch.Event, bool) {
		if e, ok := in.Object.(*corev1.Event); ok {
			return in, Matches(e, involved)
		}
		return in, true
	}), nil
}

// Time is when an event last happened, whichever field its writer set:
// lastTimestamp (core/v1 recorders), eventTime (events/v1 recorders),
// else its creation.
func Time(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// SortOldestFirst orders events by Time, oldest first. Times have a
// one-second grain: the resource version orders events written within the
// same second, and the name those without one (fakes), so that the order
// is the same on every read.
func SortOldestFirst(events []corev1.Event) {
	sort.SliceStable(events, func(i, j int) bool {
		ti, tj := Time(events[i]), Time(events[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		ri, _ := strconv.ParseUint(events[i].ResourceVersion, 10, 64)
		rj, _ := strconv.ParseUint(events[j].ResourceVersion, 10, 64)
		if ri != rj {
			return ri < rj
		}
		return events[i].Name < events[j].Name
	})
}

// SortNewestFirst orders events by Time, newest first: SortOldestFirst
// reversed.
func SortNewestFirst(events []corev1.Event) {
	SortOldestFirst(events)
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
}

// Involved are the objects whose events belong with obj's, as `flux events
// --for` shows them: obj itself first, then those the catalogue relates to
// it (k.Related: a Kustomization's source, a HelmRelease's chart), without
// repeats or refs that name nothing.
func Involved(k kinds.Kind, obj kinds.Object) []kinds.Ref {
	self := kinds.Ref{APIVersion: k.GroupVersion().String(), Kind: k.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	out := []kinds.Ref{self}
	if k.Related == nil {
		return out
	}
	seen := map[kinds.Ref]bool{{Kind: self.Kind, Namespace: self.Namespace, Name: self.Name}: true}
	for _, r := range k.Related(obj) {
		key := kinds.Ref{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
		if r.Kind == "" || r.Name == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, r)
	}
	return out
}
