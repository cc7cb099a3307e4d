package manager

import (
	"context"
	"strings"
	"sync"

	"github.com/go-logr/logr"

	"github.com/driftless/driftless/api/meta"
)

// warningLog logs the warnings the Kubernetes API sends back, each text
// once, except the one about Flux's finalizer name: Kubernetes 1.32+ warns
// on every write that "finalizers.fluxcd.io" is not domain-qualified with
// a path, but it is the name Flux's objects carry and must keep, so the
// warning would fill the log with one line per object and say nothing a
// user can act on.
type warningLog struct {
	log  logr.Logger
	mu   sync.Mutex
	seen map[string]bool
}

func newWarningLog(log logr.Logger) *warningLog {
	return &warningLog{log: log, seen: map[string]bool{}}
}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (w *warningLog) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	if strings.Contains(text, `"`+meta.Finalizer+`"`) && strings.Contains(text, "domain-qualified finalizer name") {
		return
	}
	w.mu.Lock()
	seen := w.seen[text]
	w.seen[text] = true
	w.mu.Unlock()
	if !seen {
		w.log.Info("warning from the Kubernetes API", "warning", text)
	}
}
