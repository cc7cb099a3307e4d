package notifier

import (
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

func TestOpsgeniePayload(t *testing.T) {
	fake := newFakeService(t)
	got := postOnce(t, fake, Settings{Type: "opsgenie", Address: fake.URL + "/v2/alerts", Token: "genie-t0ken"}, testEvent(eventv1.EventSeverityError))
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	golden(t, "opsgenie-error", got[0], "Authorization", "Content-Type")
	if p := opsgeniePayload(testEvent(eventv1.EventSeverityInfo)); p.Priority != "P5" {
		t.Errorf("info priority %s", p.Priority)
	}
}

// Opsgenie's message is at most 130 characters, the description 15000.
func TestOpsgenieLimits(t *testing.T) {
	e := testEvent(eventv1.EventSeverityError)
	e.Message = strings.Repeat("x", 100*1024)
	e.Reason = strings.Repeat("R", 80)
	e.InvolvedObject.Kind = ""
	p := opsgeniePayload(e)
	if len(p.Tags) != 3 || len([]rune(p.Tags[2])) != opsgenieTagLimit {
		t.Errorf("tags %q: want no empty tag and each at most 50 characters", p.Tags)
	}
	if len([]rune(p.Message)) != opsgenieMessageLimit || len([]rune(p.Description)) != opsgenieDescriptionLimit {
		t.Errorf("message %d, description %d characters", len([]rune(p.Message)), len([]rune(p.Description)))
	}
}

func TestOpsgenieFailure(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(422, `{"message":"Request body is not processable"}`)
	n, err := New(Settings{Type: "opsgenie", Address: fake.URL, Token: "genie-t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(t.Context(), testEvent(eventv1.EventSeverityError))
	if retry, _ := Retryable(err); err == nil || retry || !strings.Contains(err.Error(), "422") {
		t.Errorf("error %v (retry %v), want a permanent 422", err, retry)
	}
}
