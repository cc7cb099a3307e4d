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
	duration *prometheus.HistogramVec
}

// NewMetrics registers the metrics with reg (the manager's registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gotk_reconcile_duration_seconds",
			Help:    "The duration in seconds of a GitOps Toolkit resource reconciliation.",
			Buckets: prometheus.ExponentialBuckets(10e-3, 2, 18), // 10ms up to about 1300s
		}, []string{"kind", "name", "namespace"}),
	}
	if err := reg.Register(m.duration); err != nil {
		// A second manager in the same process shares the first one's collector.
		var dup prometheus.AlreadyRegisteredError
		if !errors.As(err, &dup) {
			return nil, err
		}
		existing, ok := dup.ExistingCollector.(*prometheus.HistogramVec)
		if !ok {
			return nil, err
		}
		m.duration = existing
	}
	return m, nil
}

// ObserveDuration records one reconciliation of obj. A nil Metrics records nothing.
func (m *Metrics) ObserveDuration(kind string, obj client.Object, d time.Duration) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(kind, obj.GetName(), obj.GetNamespace()).Observe(d.Seconds())
}
