package manager

import (
	"net/http"
	"net/http/pprof"
)

// profilingHandlers serves Go's profiles on the metrics address under
// /debug/pprof/, as Flux's controllers do, so a slow or large controller
// can be profiled where it runs (go tool pprof http://ADDR/debug/pprof/profile).
func profilingHandlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
