package web

import (
	"context"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/web/eventsource"
)

// EventSource reads the Kubernetes Events about one object, for the object
// page's Events section; eventsource.Source is the one over a clientset.
// Both methods narrow the read to the object (a field selector) rather
// than reading every Event: the UI holds no Event informer.
type EventSource interface {
	// List returns the events about involved, in any order.
	List(ctx context.Context, involved kinds.Ref) ([]corev1.Event, error)
	// Watch follows the events about involved from now, first sending
	// those that exist as Added, as the API server does.
	Watch(ctx context.Context, involved kinds.Ref) (watch.Interface, error)
}

// maxEvents is how many events the section shows, the newest; a line says
// how many older ones it leaves out.
const maxEvents = 50

// eventsData is the object page's Events section: the events of the
// object and of its related objects, newest first.
type eventsData struct {
	Rows []eventRow
	// More is how many older events are not shown past maxEvents.
	More int
	// For and Namespace are the object as `flux events -n Namespace
	// --for For` names it, for the line that says where the rest are.
	For, Namespace string
	// Denied are the namespaces whose events the viewer may not list:
	// none of their events are read.
	Denied []string
	// Failed say which reads failed, without the cause (logged), which
	// may name what the viewer may not see.
	Failed []string
}

// eventRow is one event as the section shows it.
type eventRow struct {
	// Age and When are for the "since" template: how long ago, and the
	// absolute time in RFC 3339.
	Age, When string
	Warning   bool
	Type      string
	Reason    string
	// Object is the involved object as Kind/name (Kind namespace/name
	// when in another namespace than the page's); Href is its page when
	// its kind is in the catalogue.
	Object, Href string
	Message      string
	Count        int32
}

// eventsSection is the Events section of obj's page: nil without an
// EventSource, which leaves the section out.
func (s *server) eventsSection(ctx context.Context, k kinds.Kind, obj kinds.Object) *eventsData {
	if s.eventSource == nil {
		return nil
	}
	d := &eventsData{For: k.Kind + "/" + obj.GetName(), Namespace: obj.GetNamespace()}
	var events []corev1.Event
	allowed := map[string]bool{}
	for _, ref := range eventsource.Involved(k, obj) {
		ok, checked := allowed[ref.Namespace]
		if !checked {
			ok = s.mayListEvents(ctx, d, ref.Namespace)
			allowed[ref.Namespace] = ok
		}
		if !ok {
			continue
		}
		got, err := s.eventSource.List(ctx, ref)
		switch {
		case apierrors.IsForbidden(err):
			// flux ui: the user's own credentials may not list them.
			allowed[ref.Namespace] = false
			d.deny(ref.Namespace)
		case err != nil:
			s.log.Error("read events", "kind", ref.Kind, "namespace", ref.Namespace, "name", ref.Name, "error", err)
			d.Failed = append(d.Failed, "could not read the events of "+ref.Kind+" "+ref.Namespace+"/"+ref.Name+
				": the server's log says why; reload the page to try again")
		default:
			events = append(events, got...)
		}
	}
	eventsource.SortNewestFirst(events)
	if len(events) > maxEvents {
		d.More = len(events) - maxEvents
		events = events[:maxEvents]
	}
	now := s.now()
	for _, e := range events {
		d.Rows = append(d.Rows, eventRowOf(e, obj.GetNamespace(), now))
	}
	return d
}

// mayListEvents asks whether the viewer in ctx may list events in ns, and
// notes a refusal in d. Without an Access (flux ui) the API server answers
// instead, when the events are read. In the cluster the events are read
// with the controller's identity, so this check is what keeps another
// namespace's events from a viewer; a check that fails counts as a no.
func (s *server) mayListEvents(ctx context.Context, d *eventsData, ns string) bool {
	if s.access == nil {
		return true
	}
	u, ok := viewerFrom(ctx)
	if !ok || u.Name == "" {
		d.deny(ns)
		return false
	}
	allowed, err := s.access.Allowed(ctx, u, "list", "", "events", ns, "")
	if err != nil {
		s.log.Error("check access to events", "namespace", ns, "error", err)
		d.Failed = append(d.Failed, "could not check whether you may list events in "+ns+
			": a SubjectAccessReview failed (the server's log says why)")
		return false
	}
	if !allowed {
		d.deny(ns)
	}
	return allowed
}

// deny notes once that the viewer may not list events in ns.
func (d *eventsData) deny(ns string) {
	for _, n := range d.Denied {
		if n == ns {
			return
		}
	}
	d.Denied = append(d.Denied, ns)
}

// eventRowOf is e as a row of the page of an object in namespace pageNS.
func eventRowOf(e corev1.Event, pageNS string, now time.Time) eventRow {
	ref := e.InvolvedObject
	row := eventRow{Type: e.Type, Warning: e.Type == corev1.EventTypeWarning, Reason: e.Reason, Message: e.Message, Count: e.Count,
		Object: ref.Kind + "/" + ref.Name}
	if ref.Namespace != pageNS {
		row.Object = ref.Kind + " " + ref.Namespace + "/" + ref.Name
	}
	if t := eventsource.Time(e); !t.IsZero() {
		row.Age, row.When = age(now, t), t.UTC().Format(time.RFC3339)
	}
	gv, _ := schema.ParseGroupVersion(ref.APIVersion)
	if k, ok := kinds.ByGroupKind(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}); ok && ref.Name != "" && ref.Namespace != "" {
		row.Href = objectPath(k, ref.Namespace, ref.Name)
	}
	return row
}

// Times is the count column's word: "" for an event seen once.
func (r eventRow) Times() string {
	if r.Count <= 1 {
		return ""
	}
	return "×" + strconv.Itoa(int(r.Count))
}
