package reconcile

import (
	"errors"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"

	"github.com/driftless/driftless/api/meta"
)

// EventSink receives the events of the reconciliations: a Kubernetes event
// recorder (RecorderSink), or later the notification dispatcher, plugged in
// without any kind knowing.
type EventSink interface {
	// Event records an event about obj; annotations are the pass's event
	// metadata (revision...), nil for none.
	Event(obj runtime.Object, annotations map[string]string, eventType, reason, message string)
}

// RecorderSink records events as Kubernetes events through a client-go
// recorder.
type RecorderSink struct {
	Recorder record.EventRecorder
}

// Event implements EventSink.
func (s RecorderSink) Event(obj runtime.Object, annotations map[string]string, eventType, reason, message string) {
	s.Recorder.AnnotatedEventf(obj, annotations, eventType, reason, "%s", message)
}

// emit records the events the steps asked for, then one for a failure and
// one for a new Ready message.
func (r *Reconciler[T, S]) emit(obj T, pass *Pass, wasReady bool, oldMessage string, stepErr error) {
	if r.Events == nil {
		return
	}
	r.emitRecorded(obj, pass)
	ready := Get(obj, meta.ReadyCondition)
	if ready == nil {
		return
	}
	annotations := pass.EventMetadata
	if stepErr != nil {
		var waiting *WaitingError
		if errors.As(stepErr, &waiting) {
			return // waiting is not news; the condition says it
		}
		if !pass.recorded(corev1.EventTypeWarning, ready.Reason, ready.Message) {
			r.Events.Event(obj, annotations, corev1.EventTypeWarning, ready.Reason, ready.Message)
		}
		return
	}
	if ready.Status != "True" || (wasReady && oldMessage == ready.Message) {
		return
	}
	message := ready.Message
	if r.Kind.SucceededEvent != nil {
		var extra map[string]string
		message, extra = r.Kind.SucceededEvent(obj, pass.took)
		annotations = maps.Clone(annotations)
		if annotations == nil {
			annotations = map[string]string{}
		}
		maps.Copy(annotations, extra)
	}
	if !pass.recorded(corev1.EventTypeNormal, ready.Reason, message) {
		r.Events.Event(obj, annotations, corev1.EventTypeNormal, ready.Reason, message)
	}
}

// recorded tells whether a step of the pass already recorded this very
// event: Ready then says what the step said (a HelmRelease's
// "Helm install succeeded ..."), and an alert should come once, not twice.
func (p *Pass) recorded(eventType, reason, message string) bool {
	for _, e := range p.events {
		if e.eventType == eventType && e.reason == reason && e.message == message {
			return true
		}
	}
	return false
}

// emitRecorded records the events the steps asked for on the pass.
func (r *Reconciler[T, S]) emitRecorded(obj T, pass *Pass) {
	if r.Events == nil {
		return
	}
	for _, e := range pass.events {
		r.Events.Event(obj, pass.EventMetadata, e.eventType, e.reason, e.message)
	}
}
