package dispatch

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// Reasons of the Warning events the dispatcher records on Alerts.
const (
	// NotificationDispatchFailedReason: a delivery failed for good.
	NotificationDispatchFailedReason = "NotificationDispatchFailed"
	// InvalidRegexReason: an inclusionList or exclusionList pattern does
	// not compile (once per Alert generation).
	InvalidRegexReason = "InvalidRegex"
	// ProviderNotFoundReason: the Alert's providerRef names no Provider
	// (once per Alert generation).
	ProviderNotFoundReason = "ProviderNotFound"
	// InvalidProviderReason: the Provider's notifier cannot be built (a
	// Secret or key missing, an address that is not a URL, a CEL
	// expression that does not compile), once per generation of both.
	InvalidProviderReason = "InvalidProvider"
)

// match sends one event to the queues of the Providers whose Alerts
// select it.
func (d *Dispatcher) match(q queued) {
	for _, it := range d.selectItems(d.runCtx, q) {
		d.enqueue(it)
	}
}

// selectItems returns the deliveries of one event: one per Alert that
// selects it (not suspended, eventSources, severity, inclusion and
// exclusion lists) whose Provider exists, is not suspended and takes it
// (route), with the metadata cleaned and merged for that Alert.
func (d *Dispatcher) selectItems(ctx context.Context, q queued) []item {
	e := q.event
	var alerts v1beta3.AlertList
	if err := d.cfg.Reader.List(ctx, &alerts, client.MatchingFields{AlertSourceKindField: e.InvolvedObject.Kind}); err != nil {
		d.metrics.event(resultDropped, dropCacheError)
		d.log.Error(err, "list Alerts from the cache; event not dispatched", d.objectKV(&e)...)
		return nil
	}
	cleaned := cleanMetadata(&e)
	objLabels := d.labels(ctx, &e)
	var items []item
	for i := range alerts.Items {
		alert := &alerts.Items[i]
		if alert.Spec.Suspend {
			continue
		}
		ok, err := alertSelects(alert, &e, d.cfg.NoCrossNamespaceRefs, objLabels)
		if err != nil {
			d.log.Error(err, "read the labels of the event's object for spec.eventSources[].matchLabels", append(d.objectKV(&e), "alert", alert.Namespace+"/"+alert.Name)...)
		}
		if !ok {
			continue
		}
		p := d.compiler.get(alert)
		if p.invalid != "" {
			d.alertEventOnce(alert, InvalidRegexReason, p.invalid, "")
			d.metrics.delivery("", resultDropped, dropInvalidAlert)
			continue
		}
		if !p.accepts(e.Message) {
			continue
		}
		provider, ok := d.provider(ctx, alert, &e)
		if !ok {
			continue
		}
		out := e
		merged, conflict := mergeMetadata(&e, cleaned, alert)
		out.Metadata = merged
		if conflict != "" {
			d.alertEventOnce(alert, MetadataAppendFailedReason, conflict, "")
		}
		if ok, why := route(provider.Spec.Type, &out); !ok {
			d.metrics.delivery(provider.Spec.Type, resultDropped, why)
			continue
		}
		items = append(items, item{event: out, alert: alert, provider: provider, received: q.received})
	}
	return items
}

// provider returns the Alert's Provider from the cache, or false when
// there is none to send to (missing: one event per Alert generation;
// suspended: skipped).
func (d *Dispatcher) provider(ctx context.Context, alert *v1beta3.Alert, e *eventv1.Event) (*v1beta3.Provider, bool) {
	provider := &v1beta3.Provider{}
	key := client.ObjectKey{Namespace: alert.Namespace, Name: alert.Spec.ProviderRef.Name}
	if err := d.cfg.Reader.Get(ctx, key, provider); err != nil {
		if apierrors.IsNotFound(err) {
			d.alertEventOnce(alert, ProviderNotFoundReason, fmt.Sprintf(
				"Provider %s of Alert %s/%s not found (spec.providerRef.name): create it in namespace %s or fix the reference; events are not sent meanwhile",
				key.Name, alert.Namespace, alert.Name, key.Namespace), "")
			d.metrics.delivery("", resultDropped, dropProviderMissing)
			return nil, false
		}
		d.metrics.delivery("", resultDropped, dropCacheError)
		d.log.Error(err, "read the Alert's Provider from the cache; event not sent", append(d.objectKV(e), "alert", alert.Namespace+"/"+alert.Name, "provider", key.String())...)
		return nil, false
	}
	if provider.Spec.Suspend {
		d.metrics.delivery(provider.Spec.Type, resultDropped, dropSuspended)
		return nil, false
	}
	return provider, true
}

// labels returns a function reading the labels of the event's object from
// the cache once, for the Alerts that select by matchLabels.
func (d *Dispatcher) labels(ctx context.Context, e *eventv1.Event) labelsFunc {
	var (
		once   sync.Once
		labels map[string]string
		err    error
	)
	return func() (map[string]string, error) {
		once.Do(func() {
			obj := e.InvolvedObject
			gv, perr := schema.ParseGroupVersion(obj.APIVersion)
			if perr != nil || obj.APIVersion == "" {
				err = fmt.Errorf("event of %s %s/%s has involvedObject.apiVersion %q: cannot read its labels", obj.Kind, obj.Namespace, obj.Name, obj.APIVersion)
				return
			}
			meta := &metav1.PartialObjectMetadata{}
			meta.SetGroupVersionKind(gv.WithKind(obj.Kind))
			if gerr := d.cfg.Reader.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Name}, meta); gerr != nil {
				if !apierrors.IsNotFound(gerr) {
					err = fmt.Errorf("read the labels of %s %s/%s from the cache: %w", obj.Kind, obj.Namespace, obj.Name, gerr)
				}
				return // a deleted object has no labels to match
			}
			labels = meta.Labels
		})
		return labels, err
	}
}

// objectKV are the log keys naming the event's object.
func (d *Dispatcher) objectKV(e *eventv1.Event) []any {
	o := e.InvolvedObject
	return []any{"object", o.Kind + "/" + o.Namespace + "/" + o.Name, "reason", e.Reason, "severity", e.Severity}
}

// alertEvent records a Warning event on the Alert.
func (d *Dispatcher) alertEvent(alert *v1beta3.Alert, reason, message string) {
	obj := alert.DeepCopy()
	obj.SetGroupVersionKind(v1beta3.GroupVersion.WithKind(v1beta3.AlertKind))
	d.cfg.Events.Event(obj, nil, "Warning", reason, message)
}

// alertEventOnce records the event once per generation of the Alert (and
// of whatever extra names, a Provider's generation), so a broken Alert
// gives one event, not one per notification.
func (d *Dispatcher) alertEventOnce(alert *v1beta3.Alert, reason, message, extra string) {
	key := fmt.Sprintf("%s/%d/%s/%s/%s", alert.UID, alert.Generation, extra, reason, message)
	if d.once.first(key) {
		d.alertEvent(alert, reason, message)
		d.log.Error(fmt.Errorf("%s", message), "alert misconfigured", "alert", alert.Namespace+"/"+alert.Name, "reason", reason)
	}
}

// providerEventOnce records a Warning event on the Provider once per
// generation, so that `flux events --for Provider/NAME` (and kubectl
// describe) say why it cannot send, whichever Alert found out.
func (d *Dispatcher) providerEventOnce(p *v1beta3.Provider, reason, message string) {
	key := fmt.Sprintf("provider/%s/%d/%s/%s", p.UID, p.Generation, reason, message)
	if d.once.first(key) {
		obj := p.DeepCopy()
		obj.SetGroupVersionKind(v1beta3.GroupVersion.WithKind(v1beta3.ProviderKind))
		d.cfg.Events.Event(obj, nil, "Warning", reason, message)
	}
}

// maxOnceKeys bounds onceEvents; past it, it starts over (an event may
// then repeat once).
const maxOnceKeys = 10000

// onceEvents remembers the events already recorded.
type onceEvents struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newOnceEvents() *onceEvents { return &onceEvents{seen: map[string]bool{}} }

// first tells whether key is new, remembering it.
func (o *onceEvents) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[key] {
		return false
	}
	if len(o.seen) >= maxOnceKeys {
		o.seen = map[string]bool{}
	}
	o.seen[key] = true
	return true
}
