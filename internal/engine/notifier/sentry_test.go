package notifier

import (
	"encoding/json"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// The DSN gives the envelope endpoint and the key of X-Sentry-Auth; the
// level is the severity, the channel the environment.
func TestSentryPayload(t *testing.T) {
	fake := newFakeService(t)
	host := strings.TrimPrefix(fake.URL, "http://")
	s := Settings{Type: "sentry", Address: "http://pubk3y123@" + host + "/42", AddressFromSecret: true, Channel: "staging"}
	postOnce(t, fake, s, testEvent(eventv1.EventSeverityError))
	got := postOnce(t, fake, s, testEvent(eventv1.EventSeverityInfo))
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	golden(t, "sentry-error", got[0], "Content-Type", "X-Sentry-Auth")
	golden(t, "sentry-info", got[1], "Content-Type", "X-Sentry-Auth")
	checkEnvelope(t, got[0].Body)
}

// checkEnvelope reads an envelope as Sentry does: three JSON lines, the
// item's length that of the payload, the same event ID in both.
func checkEnvelope(t *testing.T, body []byte) sentryEvent {
	t.Helper()
	lines := strings.SplitN(strings.TrimSuffix(string(body), "\n"), "\n", 3)
	if len(lines) != 3 {
		t.Fatalf("envelope of %d lines: %q", len(lines), body)
	}
	var head struct {
		EventID string `json:"event_id"`
	}
	var item struct {
		Type   string `json:"type"`
		Length int    `json:"length"`
	}
	var ev sentryEvent
	if json.Unmarshal([]byte(lines[0]), &head) != nil || json.Unmarshal([]byte(lines[1]), &item) != nil || json.Unmarshal([]byte(lines[2]), &ev) != nil {
		t.Fatalf("envelope lines are not JSON: %q", body)
	}
	if item.Type != "event" || item.Length != len(lines[2]) || head.EventID != ev.EventID || len(ev.EventID) != 32 {
		t.Errorf("envelope header %+v, item %+v, payload of %d bytes, event %s", head, item, len(lines[2]), ev.EventID)
	}
	return ev
}

// A self-hosted Sentry under a path, and a DSN with the legacy secret key.
func TestSentryDSNForms(t *testing.T) {
	n, err := New(Settings{Type: "sentry", Address: "https://pub:priv@sentry.example.com:9000/sentry/7", AddressFromSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	sn := n.(*sentry)
	if sn.envelope != "https://sentry.example.com:9000/sentry/api/7/envelope/" {
		t.Errorf("envelope endpoint %s", sn.envelope)
	}
	if sn.auth != "Sentry sentry_version=7, sentry_client=driftless-notifier/1.0, sentry_key=pub, sentry_secret=priv" {
		t.Errorf("auth %s", sn.auth)
	}
}

// The message is cut to Sentry's 8192 characters; tags are single lines.
func TestSentryLimits(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Message = strings.Repeat("s", 100*1024)
	e.Reason = "Bad\nReason" + strings.Repeat("r", 300)
	p := sentryPayload(e, "")
	if len([]rune(p.LogEntry.Formatted)) != sentryMessageLimit {
		t.Errorf("message of %d characters", len([]rune(p.LogEntry.Formatted)))
	}
	if r := p.Tags["reason"]; len([]rune(r)) != sentryTagLimit || strings.Contains(r, "\n") {
		t.Errorf("reason tag %q", r)
	}
	data, _ := json.Marshal(p)
	if len(data) > 12*1024 {
		t.Errorf("payload of %d bytes", len(data))
	}
}

func TestSentryFailure(t *testing.T) {
	fake := newFakeService(t)
	host := strings.TrimPrefix(fake.URL, "http://")
	fake.answerWith(403, `{"detail":"project 42 does not accept key pubk3y123"}`)
	n, err := New(Settings{Type: "sentry", Address: "http://pubk3y123@" + host + "/42", AddressFromSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(t.Context(), testEvent(eventv1.EventSeverityError))
	if err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "pubk3y123") || strings.Contains(err.Error(), "/42") {
		t.Errorf("error %v: want a 403 without the DSN's key or path", err)
	}
}
