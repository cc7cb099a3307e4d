package reconcile

import (
	"hash/fnv"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// DefaultEventShards is how many senders Events spreads events over.
const DefaultEventShards = 8

// Events records Kubernetes events through several client-go broadcasters.
// One broadcaster writes one event at a time: under load, at some twenty
// a second, fewer than a busy controller emits (two per Kustomization
// applied), so events queued up and were dropped. The events of one object
// always go through the same broadcaster: their order, and client-go's
// aggregation and spam filter, which work per object, hold.
type Events struct {
	broadcasters []record.EventBroadcaster
}

// NewEvents starts shards broadcasters writing to sink, each logging the
// events it records at debug level.
func NewEvents(sink record.EventSink, shards int, log logr.Logger) *Events {
	e := &Events{}
	for range max(shards, 1) {
		b := record.NewBroadcaster()
		b.StartRecordingToSink(sink)
		b.StartEventWatcher(func(ev *corev1.Event) {
			log.V(1).Info(ev.Message, "type", ev.Type, "object", ev.InvolvedObject, "reason", ev.Reason)
		})
		e.broadcasters = append(e.broadcasters, b)
	}
	return e
}

// Recorder returns the recorder of component (the events' source).
func (e *Events) Recorder(scheme *runtime.Scheme, component string) record.EventRecorder {
	r := make(shardedRecorder, 0, len(e.broadcasters))
	for _, b := range e.broadcasters {
		r = append(r, b.NewRecorder(scheme, corev1.EventSource{Component: component}))
	}
	return r
}

// Sink returns the EventSink of component: its Recorder.
func (e *Events) Sink(scheme *runtime.Scheme, component string) EventSink {
	return RecorderSink{Recorder: e.Recorder(scheme, component)}
}

// Shutdown stops the broadcasters.
func (e *Events) Shutdown() {
	for _, b := range e.broadcasters {
		b.Shutdown()
	}
}

// shardedRecorder sends the events of an object to the recorder its
// namespace and name hash to.
type shardedRecorder []record.EventRecorder

func (r shardedRecorder) of(obj runtime.Object) record.EventRecorder {
	h := fnv.New32a()
	if m, err := meta.Accessor(obj); err == nil {
		_, _ = h.Write([]byte(m.GetNamespace() + "/" + m.GetName()))
	}
	return r[h.Sum32()%uint32(len(r))]
}

func (r shardedRecorder) Event(obj runtime.Object, eventType, reason, message string) {
	r.of(obj).Event(obj, eventType, reason, message)
}

func (r shardedRecorder) Eventf(obj runtime.Object, eventType, reason, format string, args ...any) {
	r.of(obj).Eventf(obj, eventType, reason, format, args...)
}

func (r shardedRecorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventType, reason, format string, args ...any) {
	r.of(obj).AnnotatedEventf(obj, annotations, eventType, reason, format, args...)
}
