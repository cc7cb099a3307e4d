package reconcile

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Metrics records what Flux's controllers export, under the same names so
// existing dashboards and alerts keep working.
type Metrics struct {
	duration    *prometheus.HistogramVec
	cacheEvents *prometheus.CounterVec
}

// Cache events, the event_type label of gotk_cache_events_total.
const (
	CacheHit  = "cache_hit"
	CacheMiss = "cache_miss"
)

// NewMetrics registers the metrics with reg (the manager's registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gotk_reconcile_duration_seconds",
			Help:    "The duration in seconds of a GitOps Toolkit resource reconciliation.",
			Buckets: prometheus.ExponentialBuckets(10e-3, 2, 18), // 10ms up to about 1300s
		}, []string{"kind", "name", "namespace"}),
		cacheEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gotk_cache_events_total",
			Help: "The number of cache events (hits and misses) of a GitOps Toolkit resource, the Helm index cache of a HelmChart.",
		}, []string{"event_type", "name", "namespace"}),
	}
	var err error
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.cacheEvents, err = register(reg, m.cacheEvents); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c with reg; a second manager in the same process
// shares the first one's collector.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var dup prometheus.AlreadyRegisteredError
	if !errors.As(err, &dup) {
		return c, err
	}
	existing, ok := dup.ExistingCollector.(C)
	if !ok {
		return c, err
	}
	return existing, nil
}

// CacheEvent counts one lookup of obj in a cache, a hit or a miss. A nil
// Metrics records nothing.
func (m *Metrics) CacheEvent(obj client.Object, hit bool) {
	if m == nil {
		return
	}
	event := CacheMiss
	if hit {
		event = CacheHit
	}
	m.cacheEvents.WithLabelValues(event, obj.GetName(), obj.GetNamespace()).Inc()
}

// ObserveDuration records one reconciliation of obj. A nil Metrics records nothing.
func (m *Metrics) ObserveDuration(kind string, obj client.Object, d time.Duration) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(kind, obj.GetName(), obj.GetNamespace()).Observe(d.Seconds())
}
