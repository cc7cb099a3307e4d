package informerstore

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// probeEvery is how often the store asks the API server whether it
// answers. The informers cannot say: a reflector whose server refuses
// connections retries its watch quietly and forever, with no error
// handler called, and its cache simply stops changing.
const probeEvery = 5 * time.Second

// health is the last answer of a cheap request to the API server (its
// version), so that the pages can say it does not answer instead of
// showing the last state read as if it were current.
type health struct {
	mu  sync.Mutex
	err error
	at  time.Time
}

// run probes until ctx ends.
func (h *health) run(ctx context.Context, probe func(context.Context) error) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, probeEvery)
		err := probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		h.mu.Lock()
		if err == nil {
			h.err = nil
		} else if h.err == nil {
			h.err, h.at = err, time.Now()
		}
		h.mu.Unlock()
	}
}

// problem is "" while the API server answers.
func (h *health) problem() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return ""
	}
	return fmt.Sprintf("the API server is not answering since %s (%v): this page shows the last state read",
		h.at.UTC().Format(time.TimeOnly), h.err)
}
