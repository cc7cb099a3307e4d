package reconcile

import (
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// EventSource says who records an event: the Flux controller of the kind
// (kustomize-controller) and the instance (the host name), with the
// scheme that names the object's apiVersion and kind.
type EventSource struct {
	Scheme    *runtime.Scheme
	Component string
	Instance  string
}

// FluxEvent converts what the skeleton records (an EventSink call) into
// the Event Flux's controllers post to the notification controller.
// Only Normal (info) and Warning (error) events are notified: ok is false
// for any other type.
func (s EventSource) FluxEvent(obj runtime.Object, annotations map[string]string, eventType, reason, message string, now time.Time) (e eventv1.Event, ok bool) {
	switch eventType {
	case corev1.EventTypeNormal:
		e.Severity = eventv1.EventSeverityInfo
	case corev1.EventTypeWarning:
		e.Severity = eventv1.EventSeverityError
	default:
		return e, false
	}
	e.InvolvedObject = s.reference(obj)
	e.Timestamp = metav1.NewTime(now)
	e.Reason = reason
	e.Message = cutMessage(message)
	e.ReportingController = s.Component
	e.ReportingInstance = s.Instance
	e.Metadata = eventMetadata(obj, annotations)
	return e, true
}

// reference is the involved object: apiVersion and kind from the object or
// else the scheme, name, namespace, uid and resourceVersion.
func (s EventSource) reference(obj runtime.Object) corev1.ObjectReference {
	var ref corev1.ObjectReference
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" && s.Scheme != nil {
		if k, err := apiutil.GVKForObject(obj, s.Scheme); err == nil {
			gvk = k
		}
	}
	ref.APIVersion, ref.Kind = gvk.GroupVersion().String(), gvk.Kind
	if m, err := apimeta.Accessor(obj); err == nil {
		ref.Name, ref.Namespace = m.GetName(), m.GetNamespace()
		ref.UID, ref.ResourceVersion = m.GetUID(), m.GetResourceVersion()
	}
	return ref
}

// eventMetadata is the pass's metadata (the controller's own
// "<group>/revision" keys) plus the object's event.toolkit.fluxcd.io/*
// annotations, keys kept whole as Flux's controllers send them (RFC-0008;
// the notification controller strips the prefix when it merges them).
// The controller's keys win over an annotation of the same name.
func eventMetadata(obj runtime.Object, annotations map[string]string) map[string]string {
	out := map[string]string{}
	if m, err := apimeta.Accessor(obj); err == nil {
		for k, v := range m.GetAnnotations() {
			if strings.HasPrefix(k, eventv1.Group+"/") {
				out[k] = v
			}
		}
	}
	maps.Copy(out, annotations)
	if len(out) == 0 {
		return nil
	}
	return out
}

// cutMessage cuts a message to eventv1.MaxMessageLength characters, on a
// character boundary.
func cutMessage(m string) string {
	if len(m) <= eventv1.MaxMessageLength {
		return m
	}
	n := 0
	for i := range m {
		if n == eventv1.MaxMessageLength {
			return m[:i]
		}
		n++
	}
	return m
}
