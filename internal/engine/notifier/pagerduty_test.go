package notifier

import (
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// An error triggers an alert deduplicated on the object's UID.
func TestPagerDutyTrigger(t *testing.T) {
	fake := newFakeService(t)
	got := postOnce(t, fake, Settings{Type: "pagerduty", Address: fake.URL, Channel: "R0UTINGKEY"}, testEvent(eventv1.EventSeverityError))
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	golden(t, "pagerduty-error", got[0], "Content-Type")
}

// An info event resolves the alert, then records a change event; the
// address's path is ignored (Flux's docs give the host).
func TestPagerDutyResolveAndChange(t *testing.T) {
	fake := newFakeService(t)
	got := postOnce(t, fake, Settings{Type: "pagerduty", Address: fake.URL + "/some/path?x=1", Channel: "R0UTINGKEY"}, testEvent(eventv1.EventSeverityInfo))
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	golden(t, "pagerduty-info-resolve", got[0], "Content-Type")
	golden(t, "pagerduty-info-change", got[1], "Content-Type")
}

func TestPagerDutyDefaultAddress(t *testing.T) {
	n, err := New(Settings{Type: "pagerduty", Channel: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if got := serviceURL(n.(*pagerduty).base, "/v2/enqueue"); got != "https://events.pagerduty.com/v2/enqueue" {
		t.Errorf("default endpoint %s", got)
	}
}

// The summary is cut to PagerDuty's 1024 characters.
func TestPagerDutySummaryLimit(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Message = strings.Repeat("ü", 5000)
	if p := pagerDutyPayload(e); len([]rune(p.Summary)) != pagerDutySummaryLimit {
		t.Errorf("summary of %d characters", len([]rune(p.Summary)))
	}
}

// A failed resolve sends no change event.
func TestPagerDutyFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(400, `{"status":"invalid event","message":"Event object is invalid"}`)
	n, err := New(Settings{Type: "pagerduty", Address: fake.URL, Channel: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(t.Context(), testEvent(eventv1.EventSeverityInfo)); err == nil || !strings.Contains(err.Error(), "Event object is invalid") {
		t.Errorf("error %v", err)
	}
	if got := fake.received(); len(got) != 1 {
		t.Errorf("%d requests after a failed resolve, want 1", len(got))
	}
}
