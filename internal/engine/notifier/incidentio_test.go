package notifier

import (
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// An error fires the alert, an info event resolves it under the same
// deduplication key.
func TestIncidentIOPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "incident.io", Address: fake.URL + "/v2/alert_events/http/01SOURCE", Token: "iio-t0ken"}
	postOnce(t, fake, s, testEvent(eventv1.EventSeverityError))
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	golden(t, "incidentio-error", got[0], "Authorization", "Content-Type")
	golden(t, "incidentio-info", got[1], "Authorization", "Content-Type")
}

// A tenant's metadata cannot overwrite the object's keys.
func TestIncidentIOMetadataCannotOverride(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Metadata["namespace"] = "kube-system"
	if p := incidentIOPayload(e); p.Metadata["namespace"] != "flux-system" {
		t.Errorf("namespace %q", p.Metadata["namespace"])
	}
}

func TestIncidentIOFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(429, `{"type":"rate_limited"}`)
	fake.header.Set("Retry-After", "12")
	n, err := New(Settings{Type: "incident.io", Address: fake.URL, Token: "iio-t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(t.Context(), testEvent(eventv1.EventSeverityError))
	if retry, after := Retryable(err); !retry || after.Seconds() != 12 || !strings.Contains(err.Error(), "429") {
		t.Errorf("error %v, retry %v after %v; want 429 retried after 12s", err, retry, after)
	}
}
