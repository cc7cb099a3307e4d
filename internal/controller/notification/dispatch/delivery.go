package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
)

// item is one event on its way to one Provider for one Alert.
type item struct {
	event    eventv1.Event
	alert    *v1beta3.Alert
	provider *v1beta3.Provider
	received time.Time
}

// lane is one worker's queue of a Provider: a FIFO delivered by at most
// one goroutine at a time, so the events of an object (always the same
// lane) are delivered in order, and a Provider that hangs holds only its
// own lanes.
type lane struct {
	typ     string
	mu      sync.Mutex
	items   []item
	running bool
}

// maxLanes bounds the lanes kept; past it, idle ones are forgotten.
const maxLanes = 10000

// enqueue puts the item on its Provider's lane for its object, starting
// the lane's goroutine when it is idle. A full lane drops the item, which
// is counted, logged, and reported on the Alert once per generation.
func (d *Dispatcher) enqueue(it item) {
	p := it.provider
	key := p.Namespace + "/" + p.Name + "/" + string(p.UID) + "#" +
		strconv.Itoa(shardOf(objectKey(&it.event), d.cfg.ProviderWorkers))
	d.lanesMu.Lock()
	l := d.lanes[key]
	if l == nil {
		if len(d.lanes) >= maxLanes {
			d.forgetIdleLanes()
		}
		l = &lane{typ: p.Spec.Type}
		d.lanes[key] = l
	}
	d.lanesMu.Unlock()

	l.mu.Lock()
	if len(l.items) >= d.cfg.ProviderQueueSize {
		l.mu.Unlock()
		d.metrics.delivery(l.typ, resultDropped, dropQueueFull)
		msg := fmt.Sprintf("the queue of Provider %s/%s (%s) is full (%d events): events of this Alert are dropped until it drains; check that the provider answers",
			p.Namespace, p.Name, p.Spec.Type, d.cfg.ProviderQueueSize)
		d.log.Error(ErrQueueFull, "event not sent", append(d.objectKV(&it.event), "alert", it.alert.Namespace+"/"+it.alert.Name, "provider", p.Namespace+"/"+p.Name)...)
		d.alertEventOnce(it.alert, NotificationDispatchFailedReason, msg, string(p.UID))
		return
	}
	l.items = append(l.items, it)
	d.metrics.queue.WithLabelValues(l.typ).Inc()
	if !l.running {
		l.running = true
		d.lanesWG.Add(1)
		go d.run(l)
	}
	l.mu.Unlock()
}

// forgetIdleLanes drops the lanes with nothing queued. d.lanesMu is held.
func (d *Dispatcher) forgetIdleLanes() {
	for k, l := range d.lanes {
		l.mu.Lock()
		idle := !l.running && len(l.items) == 0
		l.mu.Unlock()
		if idle {
			delete(d.lanes, k)
		}
	}
}

// run delivers the lane's items in order until it is empty.
func (d *Dispatcher) run(l *lane) {
	defer d.lanesWG.Done()
	for {
		l.mu.Lock()
		if len(l.items) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		it := l.items[0]
		l.items[0] = item{}
		l.items = l.items[1:]
		l.mu.Unlock()
		d.metrics.queue.WithLabelValues(l.typ).Dec()
		d.deliver(it)
	}
}

// deliver sends the item, retrying what notifier.Retryable says is
// transient: at most MaxAttempts tries within MaxRetryDuration, waiting
// BackoffMin doubling to BackoffMax, or the service's Retry-After when
// longer. Each try is bounded by the Provider's timeout.
func (d *Dispatcher) deliver(it item) {
	ctx := d.runCtx
	typ := it.provider.Spec.Type
	if ctx.Err() != nil {
		d.dropDelivery(it)
		return
	}
	n, err := d.cfg.Notifier(ctx, it.alert, it.provider)
	if err != nil {
		if ctx.Err() != nil {
			d.dropDelivery(it)
			return
		}
		d.metrics.delivery(typ, resultDropped, dropInvalidProvider)
		d.alertEventOnce(it.alert, InvalidProviderReason, fmt.Sprintf("Provider %s/%s (%s) of Alert %s/%s cannot send: %v",
			it.provider.Namespace, it.provider.Name, typ, it.alert.Namespace, it.alert.Name, err),
			fmt.Sprintf("%s/%d", it.provider.UID, it.provider.Generation))
		d.providerEventOnce(it.provider, InvalidProviderReason, fmt.Sprintf("cannot send: %v", err))
		return
	}
	timeout := it.provider.GetTimeout()
	if timeout <= 0 {
		timeout = notifier.DefaultTimeout
	}
	start := d.cfg.Now()
	backoff := d.cfg.BackoffMin
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := n.Post(actx, it.event)
		cancel()
		if err == nil {
			d.metrics.delivery(typ, resultSent, "")
			d.metrics.done(typ, resultSent, it.received, d.cfg.Now())
			return
		}
		if ctx.Err() != nil {
			d.dropDelivery(it)
			return
		}
		retry, after := notifier.Retryable(err)
		if !retry {
			d.fail(it, attempt, err, "")
			return
		}
		if attempt >= d.cfg.MaxAttempts {
			d.fail(it, attempt, err, "")
			return
		}
		wait := backoff
		if after > wait {
			wait = after
		}
		if d.cfg.Now().Sub(start)+wait > d.cfg.MaxRetryDuration {
			d.fail(it, attempt, err, fmt.Sprintf(" (the next try, in %s, would pass the retry bound of %s)", wait, d.cfg.MaxRetryDuration))
			return
		}
		backoff = min(2*backoff, d.cfg.BackoffMax)
		d.metrics.delivery(typ, resultRetried, "")
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			d.dropDelivery(it)
			return
		}
	}
}

// fail reports a delivery that failed for good: a Warning event on the
// Alert (and, once per error, on the Provider), an error log and a count. err comes from the notifier, which
// keeps secrets out of it.
func (d *Dispatcher) fail(it item, attempts int, err error, note string) {
	typ := it.provider.Spec.Type
	obj := it.event.InvolvedObject
	tries := "1 attempt"
	if attempts > 1 {
		tries = fmt.Sprintf("%d attempts", attempts)
	}
	msg := fmt.Sprintf("failed to send the %s event %s of %s %s/%s to Provider %s/%s (%s) after %s%s: %v",
		it.event.Severity, it.event.Reason, obj.Kind, obj.Namespace, obj.Name,
		it.provider.Namespace, it.provider.Name, typ, tries, note, err)
	d.alertEvent(it.alert, NotificationDispatchFailedReason, msg)
	d.providerEventOnce(it.provider, NotificationDispatchFailedReason, fmt.Sprintf("cannot deliver (%s): %v", tries, err))
	d.log.Error(err, "notification not sent", append(d.objectKV(&it.event),
		"alert", it.alert.Namespace+"/"+it.alert.Name, "provider", it.provider.Namespace+"/"+it.provider.Name,
		"type", typ, "attempts", attempts)...)
	d.metrics.delivery(typ, resultFailed, "")
	d.metrics.done(typ, resultFailed, it.received, d.cfg.Now())
}

// dropDelivery counts and logs a delivery cut short by shutdown.
func (d *Dispatcher) dropDelivery(it item) {
	d.metrics.delivery(it.provider.Spec.Type, resultDropped, dropShutdown)
	d.log.Error(errors.New("dispatcher stopped"), "notification not sent before shutdown", append(d.objectKV(&it.event),
		"alert", it.alert.Namespace+"/"+it.alert.Name, "provider", it.provider.Namespace+"/"+it.provider.Name)...)
}
