// Package ingest is the notification controller's event endpoint (Flux's
// event ingestion protocol): Flux's own controllers, and other tools
// during a migration, POST Flux events to it and they go the one way
// every event goes, the dispatcher's Submit.
package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/internal/controller/notification/dispatch"
)

// Limits of one request, as the issue sets them (Flux: 3 MiB bodies).
const (
	MaxBodyBytes      = 3 << 20
	MaxHeaderBytes    = 256 << 10
	ReadHeaderTimeout = 10 * time.Second
	RequestTimeout    = 30 * time.Second
)

// Submitter takes an event for dispatch: the dispatcher, refusing with
// dispatch.ErrRateLimited or dispatch.ErrQueueFull.
type Submitter interface {
	Submit(eventv1.Event) error
}

// Handler answers the POSTs of Flux events on any path: 202 once the
// event is taken (also when no Alert matches), 400 for what is not an
// event, 413 over MaxBodyBytes, 429 for a repeat within the rate-limit
// interval, 503 when the dispatcher's queue is full.
type Handler struct {
	Submitter Submitter
	Log       logr.Logger
	// Metrics, when set, observes every request.
	Metrics *Metrics
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if h.Metrics != nil {
		h.Metrics.inflight.Inc()
		defer h.Metrics.inflight.Dec()
	}
	code, msg := h.serve(w, r)
	if msg != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	w.WriteHeader(code)
	if msg != "" {
		_, _ = io.WriteString(w, msg+"\n")
	}
	if h.Metrics != nil {
		h.Metrics.observe(r.Method, code, time.Since(start), len(msg))
	}
}

// serve reads, checks and submits the event, and says what to answer.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return http.StatusMethodNotAllowed, "only POST of a Flux event (application/json) is accepted"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, fmt.Sprintf("the event is larger than %d bytes", MaxBodyBytes)
		}
		return http.StatusBadRequest, "reading the body failed"
	}
	e, err := Decode(body)
	if err != nil {
		h.Log.V(1).Info("refused an event", "error", err.Error(), "remote", r.RemoteAddr)
		return http.StatusBadRequest, err.Error()
	}
	switch err := h.Submitter.Submit(e); {
	case err == nil:
		return http.StatusAccepted, ""
	case errors.Is(err, dispatch.ErrRateLimited):
		return http.StatusTooManyRequests, "the same event was dispatched recently"
	case errors.Is(err, dispatch.ErrQueueFull):
		w.Header().Set("Retry-After", "5")
		return http.StatusServiceUnavailable, "the event queue is full, retry later"
	default:
		h.Log.Error(err, "submitting an event failed", "kind", e.InvolvedObject.Kind,
			"name", e.InvolvedObject.Name, "namespace", e.InvolvedObject.Namespace)
		return http.StatusInternalServerError, "the event could not be dispatched"
	}
}

// Decode reads a Flux event and refuses one that names no object: an
// Alert could never match it.
func Decode(body []byte) (eventv1.Event, error) {
	var e eventv1.Event
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("the body is not a Flux event (JSON): %s", jsonProblem(err))
	}
	ref := e.InvolvedObject
	switch {
	case ref.Kind == "":
		return e, errors.New("the event has no involvedObject.kind")
	case ref.Name == "":
		return e, errors.New("the event has no involvedObject.name")
	case ref.Namespace == "":
		return e, errors.New("the event has no involvedObject.namespace")
	}
	return e, nil
}

// jsonProblem says what is wrong with the JSON without echoing the body.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "syntax error at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type)
	default:
		return "unexpected end of input"
	}
}
