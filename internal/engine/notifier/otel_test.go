package notifier

import (
	"encoding/json"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// One span per event over OTLP/HTTP JSON, with the Secret's headers.
func TestOtelPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "otel", Address: fake.URL + "/v1/traces", Headers: map[string]string{"X-Scope-OrgID": "tenant-a"}, Token: "otel-t0ken"}
	postOnce(t, fake, s, testEvent(eventv1.EventSeverityError))
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	golden(t, "otel-error", got[0], "Authorization", "Content-Type", "X-Scope-OrgID")
	golden(t, "otel-info", got[1], "Authorization", "Content-Type", "X-Scope-OrgID")
}

// The spans of one revision share a trace: a GitRepository's and the
// Kustomization's events line up; another revision is another trace.
func TestOtelTraceFollowsRevision(t *testing.T) {
	source := testEvent(eventv1.EventSeverityInfo)
	source.InvolvedObject.Kind, source.InvolvedObject.UID = "GitRepository", "u-source"
	source.Metadata = map[string]string{"source.toolkit.fluxcd.io/revision": "main@sha1:abc"}
	applied := testEvent(eventv1.EventSeverityInfo)
	applied.Metadata = map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"}
	other := testEvent(eventv1.EventSeverityInfo)
	other.Metadata = map[string]string{"kustomize.toolkit.fluxcd.io/revision": "main@sha1:def"}
	span := func(e eventv1.Event) otlpSpan { return otelPayload(e).ResourceSpans[0].ScopeSpans[0].Spans[0] }
	if span(source).TraceID != span(applied).TraceID {
		t.Error("one revision, two traces")
	}
	if span(applied).TraceID == span(other).TraceID {
		t.Error("two revisions, one trace")
	}
	if span(source).SpanID == span(applied).SpanID || len(span(source).TraceID) != 32 || len(span(source).SpanID) != 16 {
		t.Errorf("span IDs %s %s", span(source).SpanID, span(applied).SpanID)
	}
}

// Headers of the Secret may carry their own Authorization; the token
// does not replace it.
func TestOtelHeadersWin(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "otel", Address: fake.URL, Token: "otel-t0ken", Headers: map[string]string{"Authorization": "Basic b3RlbDpvdGVs"}}
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityError))
	if h := got[0].Header.Values("Authorization"); len(h) != 1 || h[0] != "Basic b3RlbDpvdGVs" {
		t.Errorf("Authorization %v", h)
	}
	var traces otlpTraces
	if err := json.Unmarshal(got[0].Body, &traces); err != nil {
		t.Fatal(err)
	}
}

func TestOtelFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(415, `unsupported content type`)
	n, err := New(Settings{Type: "otel", Address: fake.URL + "/v1/traces"})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(t.Context(), testEvent(eventv1.EventSeverityError))
	if retry, _ := Retryable(err); err == nil || retry || !strings.Contains(err.Error(), "415") {
		t.Errorf("error %v (retry %v), want a permanent 415", err, retry)
	}
}
