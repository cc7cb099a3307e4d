package manager

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metricsRegistry is the registry controller-runtime serves on --metrics-addr.
func metricsRegistry() prometheus.Registerer { return crmetrics.Registry }
