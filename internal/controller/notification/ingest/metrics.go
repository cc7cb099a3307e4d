package ingest

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// handlerLabel is the handler label of every request: the endpoint
// takes any path, and a label per path would let anyone grow the metrics
// without bound.
const handlerLabel = "/"

// Metrics are the endpoint's HTTP metrics under Flux's names (the
// go-http-metrics names with the gotk_event prefix): request duration and
// response size by handler, method and code.
type Metrics struct {
	duration *prometheus.HistogramVec
	size     *prometheus.HistogramVec
	inflight prometheus.Gauge
}

// NewMetrics registers the metrics on reg (controller-runtime's
// metrics.Registry in the process), reusing those already registered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	labels := []string{"service", "handler", "method", "code"}
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "gotk_event", Subsystem: "http", Name: "request_duration_seconds",
		Help: "The latency of the HTTP requests.", Buckets: prometheus.DefBuckets,
	}, labels)
	size := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "gotk_event", Subsystem: "http", Name: "response_size_bytes",
		Help: "The size of the HTTP responses.", Buckets: prometheus.ExponentialBuckets(100, 10, 8),
	}, labels)
	inflight := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "gotk_event", Subsystem: "http", Name: "requests_inflight",
		Help: "The number of inflight requests being handled at the same time.",
	}, []string{"service", "handler"})
	var err error
	if inflight, err = register(reg, inflight); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	if size, err = register(reg, size); err != nil {
		return nil, err
	}
	return &Metrics{duration: duration, size: size, inflight: inflight.WithLabelValues("", handlerLabel)}, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *Metrics) observe(method string, code int, took time.Duration, size int) {
	c := strconv.Itoa(code)
	m.duration.WithLabelValues("", handlerLabel, method, c).Observe(took.Seconds())
	m.size.WithLabelValues("", handlerLabel, method, c).Observe(float64(size))
}
