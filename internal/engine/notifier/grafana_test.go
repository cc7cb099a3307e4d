package notifier

import (
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

func TestGrafanaPayload(t *testing.T) {
	fake := newFakeService(t)
	got := postOnce(t, fake, Settings{Type: "grafana", Address: fake.URL + "/api/annotations", Token: "graf-t0ken"}, testEvent(eventv1.EventSeverityError))
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	golden(t, "grafana-error", got[0], "Authorization", "Content-Type")
}

// Without a token, username and password are basic auth; a token wins
// over them, as Flux documents.
func TestGrafanaAuth(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "grafana", Address: fake.URL + "/api/annotations", Username: "admin", Password: "s3cret"}
	postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	s.Token = "graf-t0ken"
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if h := got[0].Header.Get("Authorization"); h != "Basic YWRtaW46czNjcmV0" {
		t.Errorf("basic auth %q", h)
	}
	if h := got[1].Header.Get("Authorization"); h != "Bearer graf-t0ken" {
		t.Errorf("token auth %q", h)
	}
	if !strings.Contains(string(got[1].Body), `"severity: info"`) {
		t.Errorf("info body %s", got[1].Body)
	}
}

func TestGrafanaFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(503, `{"message":"database is locked"}`)
	n, err := New(Settings{Type: "grafana", Address: fake.URL + "/api/annotations"})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(t.Context(), testEvent(eventv1.EventSeverityError))
	if retry, _ := Retryable(err); !retry || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("error %v (retry %v), want a retried 503", err, retry)
	}
}
