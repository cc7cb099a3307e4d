package notifier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// otel exports each event as a span over OTLP/HTTP with the JSON
// encoding, to the address (a collector's /v1/traces). Spans of one
// revision share a trace, its ID derived from the revision, so a
// GitRepository's fetch and the Kustomization applying it line up; an
// event without a revision is a trace of its object. The Secret's
// headers are sent, and the token as a Bearer token when they carry no
// Authorization of their own.
type otel struct {
	s Settings
}

func newOtel(s Settings) (Notifier, error) {
	if _, err := httpAddress(s); err != nil {
		return nil, err
	}
	return &otel{s: s}, nil
}

// OTLP's JSON encoding of ExportTraceServiceRequest, the parts sent.
type (
	otlpTraces struct {
		ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	}
	otlpResourceSpans struct {
		Resource   otlpResource     `json:"resource"`
		ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
	}
	otlpResource struct {
		Attributes []otlpAttribute `json:"attributes"`
	}
	otlpScopeSpans struct {
		Scope otlpScope  `json:"scope"`
		Spans []otlpSpan `json:"spans"`
	}
	otlpScope struct {
		Name string `json:"name"`
	}
	otlpSpan struct {
		TraceID           string          `json:"traceId"`
		SpanID            string          `json:"spanId"`
		Name              string          `json:"name"`
		Kind              int             `json:"kind"`
		StartTimeUnixNano string          `json:"startTimeUnixNano"`
		EndTimeUnixNano   string          `json:"endTimeUnixNano"`
		Attributes        []otlpAttribute `json:"attributes"`
		Status            otlpStatus      `json:"status"`
	}
	otlpAttribute struct {
		Key   string    `json:"key"`
		Value otlpValue `json:"value"`
	}
	otlpValue struct {
		StringValue string `json:"stringValue"`
	}
	otlpStatus struct {
		Code    int    `json:"code"`
		Message string `json:"message,omitempty"`
	}
)

// OTLP's span kind internal and status codes.
const (
	otlpSpanKindInternal = 1
	otlpStatusOK         = 1
	otlpStatusError      = 2
)

func (n *otel) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{}
	for k, v := range n.s.Headers {
		header.Set(k, v)
	}
	if n.s.Token != "" && header.Get("Authorization") == "" {
		header.Set("Authorization", "Bearer "+n.s.Token)
	}
	_, err := n.s.postJSON(ctx, n.s.Address, otelPayload(e), header)
	return err
}

func otelPayload(e eventv1.Event) otlpTraces {
	ts := e.Timestamp.UTC()
	if e.Timestamp.IsZero() {
		ts = time.Now().UTC()
	}
	nanos := strconv.FormatInt(ts.UnixNano(), 10)
	attrs := []otlpAttribute{
		otlpString("flux.object.kind", e.InvolvedObject.Kind),
		otlpString("flux.object.name", e.InvolvedObject.Name),
		otlpString("flux.object.namespace", e.InvolvedObject.Namespace),
		otlpString("flux.object.uid", string(e.InvolvedObject.UID)),
		otlpString("flux.event.reason", e.Reason),
		otlpString("flux.event.severity", e.Severity),
		otlpString("flux.event.message", eventMessage(e)),
	}
	for _, k := range sortedKeys(e.Metadata) {
		if strings.HasPrefix(k, "flux.object.") || strings.HasPrefix(k, "flux.event.") {
			continue // the event's own attributes are not a tenant's to set
		}
		attrs = append(attrs, otlpString(k, e.Metadata[k]))
	}
	status := otlpStatus{Code: otlpStatusOK}
	if e.Severity == eventv1.EventSeverityError {
		status = otlpStatus{Code: otlpStatusError, Message: eventMessage(e)}
	}
	traceKey := string(e.InvolvedObject.UID)
	if rev := revisionOf(e); rev != "" {
		traceKey = "revision\x00" + rev
	}
	traceID := sha256.Sum256([]byte(traceKey))
	spanID := sha256.Sum256([]byte(strings.Join([]string{string(e.InvolvedObject.UID), nanos, e.Reason, e.Severity, e.Message}, "\x00")))
	return otlpTraces{ResourceSpans: []otlpResourceSpans{{
		Resource: otlpResource{Attributes: []otlpAttribute{
			otlpString("service.name", e.ReportingController),
			otlpString("service.instance.id", e.ReportingInstance),
		}},
		ScopeSpans: []otlpScopeSpans{{
			Scope: otlpScope{Name: "driftless-notification"},
			Spans: []otlpSpan{{
				TraceID:           hex.EncodeToString(traceID[:16]),
				SpanID:            hex.EncodeToString(spanID[:8]),
				Name:              e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name + "." + e.InvolvedObject.Namespace,
				Kind:              otlpSpanKindInternal,
				StartTimeUnixNano: nanos,
				EndTimeUnixNano:   nanos,
				Attributes:        attrs,
				Status:            status,
			}},
		}},
	}}}
}

func otlpString(key, value string) otlpAttribute {
	return otlpAttribute{Key: key, Value: otlpValue{StringValue: value}}
}

// revisionOf is the event's <group>/revision, or its originRevision when
// it has none: the key that ties the spans of one change together.
func revisionOf(e eventv1.Event) string {
	var origin string
	for _, k := range sortedKeys(e.Metadata) {
		switch {
		case strings.HasSuffix(k, "/"+eventv1.MetaRevisionKey):
			return e.Metadata[k]
		case strings.HasSuffix(k, "/"+eventv1.MetaOriginRevisionKey) && origin == "":
			origin = e.Metadata[k]
		}
	}
	return origin
}
