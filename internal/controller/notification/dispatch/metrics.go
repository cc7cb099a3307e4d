package dispatch

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a delivery, the result label of
// driftless_notification_deliveries_total.
const (
	resultSent    = "sent"
	resultRetried = "retried"
	resultFailed  = "failed"
	resultDropped = "dropped"
)

// Reasons an event or a delivery is dropped, the reason label.
const (
	dropRateLimited     = "rate_limited"
	dropQueueFull       = "queue_full"
	dropShutdown        = "shutdown"
	dropTrace           = "trace"
	dropInvalidEvent    = "invalid_event"
	dropCacheError      = "cache_error"
	dropProviderMissing = "provider_not_found"
	dropSuspended       = "provider_suspended"
	dropInvalidAlert    = "invalid_alert"
	dropInvalidProvider = "invalid_provider"
)

// metrics are the dispatcher's Prometheus metrics.
type metrics struct {
	events     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	queue      *prometheus.GaugeVec
	latency    *prometheus.HistogramVec
}

// queueIngress is the queue label of the events not yet matched.
const queueIngress = "ingress"

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftless_notification_events_total",
			Help: "Events submitted to the notification dispatcher, by result: queued, or dropped and why (rate_limited, queue_full, shutdown, trace, invalid_event).",
		}, []string{"result", "reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftless_notification_deliveries_total",
			Help: "Deliveries of events to providers, by provider type and result (sent, retried, failed, dropped) and the reason of a drop.",
		}, []string{"type", "result", "reason"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "driftless_notification_queue_length",
			Help: "Events waiting in the dispatcher's queues: ingress (not matched yet), or the provider queues by provider type.",
		}, []string{"queue"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "driftless_notification_delivery_duration_seconds",
			Help:    "Time from an event's submission to its delivery's final result (sent or failed), retries included, by provider type and result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 16), // 5ms to about 160s
		}, []string{"type", "result"}),
	}
	var err error
	if m.events, err = register(reg, m.events); err != nil {
		return nil, err
	}
	if m.deliveries, err = register(reg, m.deliveries); err != nil {
		return nil, err
	}
	if m.queue, err = register(reg, m.queue); err != nil {
		return nil, err
	}
	if m.latency, err = register(reg, m.latency); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c with reg; a second dispatcher on the same registry
// shares the first one's collector.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *metrics) event(result, reason string) { m.events.WithLabelValues(result, reason).Inc() }

func (m *metrics) delivery(providerType, result, reason string) {
	m.deliveries.WithLabelValues(providerType, result, reason).Inc()
}

func (m *metrics) done(providerType, result string, since time.Time, now time.Time) {
	m.latency.WithLabelValues(providerType, result).Observe(now.Sub(since).Seconds())
}
