package receiver

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metrics are the webhook server's: Flux's request duration, and the
// requests refused, which replace a Kubernetes event per request.
type metrics struct {
	duration *prometheus.HistogramVec
	refused  *prometheus.CounterVec
}

func newMetrics() (*metrics, error) {
	duration, err := register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gotk_receiver_http_request_duration_seconds",
		Help:    "The latency of the webhook receiver's HTTP requests.",
		Buckets: prometheus.DefBuckets,
	}, []string{"handler", "method", "code"}))
	if err != nil {
		return nil, err
	}
	refused, err := register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "driftless_receiver_requests_refused_total",
		Help: "Webhook requests refused, by HTTP status (400 bad signature or event, 404, 413, 429, 503).",
	}, []string{"code"}))
	if err != nil {
		return nil, err
	}
	return &metrics{duration: duration, refused: refused}, nil
}

// register registers c on controller-runtime's registry, or returns the
// collector already there (several managers in one test process).
func register[C prometheus.Collector](c C) (C, error) {
	if err := crmetrics.Registry.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) observe(method string, code int, seconds float64) {
	c := strconv.Itoa(code)
	m.duration.WithLabelValues("/hook/", method, c).Observe(seconds)
	if code >= 400 && code != 500 {
		m.refused.WithLabelValues(c).Inc()
	}
}
