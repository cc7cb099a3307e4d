package manager

import (
	"net/http"
	"net/http/pprof"

	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsOptions serve /metrics on --metrics-addr and, with --enable-pprof
// only, Go's profiles under /debug/pprof/ beside them. The profiles are off
// by default: the metrics port is open to every namespace (Prometheus
// scrapes it from anywhere), and a profile shows the process's command
// line, stacks and heap, and costs it CPU while it runs.
func metricsOptions(opts Options) metricsserver.Options {
	o := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.EnablePprof {
		o.ExtraHandlers = profilingHandlers()
	}
	return o
}

// profilingHandlers serve Go's profiles, as Flux's controllers do, so a slow
// or large controller can be profiled where it runs
// (go tool pprof http://ADDR/debug/pprof/profile).
func profilingHandlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
