package notifier

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func slackSettings(fake *fakeService) Settings {
	return Settings{Type: "slack", Address: fake.URL + "/services/T000/B000/XXXX", AddressFromSecret: true, Channel: "#flux-events"}
}

// The incoming webhook gets one attachment: danger or good, the object
// as author, the summary as title, the message and a field per metadata
// key; the username defaults to the reporting controller.
func TestSlackPayload(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, slackSettings(fake)), testEvent("error"))
	golden(t, "slack-error", fake.only(t), "Content-Type", "Authorization")

	fake = newFakeService(t)
	s := slackSettings(fake)
	s.Username = "flux-bot"
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, s), e)
	golden(t, "slack-info", fake.only(t), "Content-Type", "Authorization")
}

// With a token, the message goes to chat.postMessage with Bearer auth, and
// an answer with ok false is an error that quotes the reason, not the
// token, and is not retried.
func TestSlackToken(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(http.StatusOK, `{"ok":true,"channel":"C123","ts":"1.2"}`)
	s := Settings{Type: "slack", Address: fake.URL + "/api/chat.postMessage", Channel: "C123", Token: "xoxb-" + secretToken}
	post(t, build(t, s), testEvent("error"))
	golden(t, "slack-token", fake.only(t), "Content-Type", "Authorization")

	fake.answerWith(http.StatusOK, `{"ok":false,"error":"invalid_auth `+s.Token+`"}`)
	err := build(t, s).Post(context.Background(), testEvent("error"))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || !strings.Contains(err.Error(), "ok: false") {
		t.Fatalf("ok false: %v, want an error quoting invalid_auth", err)
	}
	noSecret(t, err, s)
	var permanent *PermanentError
	if retry, _ := Retryable(err); retry || !errors.As(err, &permanent) {
		t.Errorf("ok false is retried: %v", err)
	}

	fake.answerWith(http.StatusOK, "ok")
	if err := build(t, s).Post(context.Background(), testEvent("error")); err == nil || !strings.Contains(err.Error(), "not the Web API") {
		t.Errorf("a webhook's answer to a token: %v", err)
	}

	noAddress := s
	noAddress.Address = ""
	if got := build(t, noAddress).(*slack).url; got != slackAPI {
		t.Errorf("a token without an address posts to %s, want %s", got, slackAPI)
	}
}

// A 5xx is a retryable StatusError showing the webhook only as its host.
func TestSlackFailure(t *testing.T) {
	fake := newFakeService(t)
	s := slackSettings(fake)
	failsWithStatus(t, s, fake, http.StatusServiceUnavailable)
	err := build(t, s).Post(context.Background(), testEvent("error"))
	if !strings.Contains(err.Error(), "/***") || strings.Contains(err.Error(), "XXXX") {
		t.Errorf("the webhook is not redacted: %v", err)
	}
	if retry, _ := Retryable(err); !retry {
		t.Errorf("503 is not retried")
	}
}

func TestSlackSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "slack", Address: "https://hooks.slack.com/services/x"}, false)
	refused(t, Settings{Type: "slack", Token: secretToken}, "spec.channel", "token")
	refused(t, Settings{Type: "slack", Address: "https://hooks.slack.com/services/x", Channel: "#a b"}, "spec.channel")
	refused(t, Settings{Type: "slack", Address: "https://hooks.slack.com/services/x", Channel: strings.Repeat("c", 100)}, "spec.channel")
}

// Slack's <!here>, <!channel> and <@user> in a message, the summary or
// metadata become text (Slack's entities); a 100 KB message is cut to
// Slack's 40,000 characters.
func TestSlackHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, slackSettings(fake)), hostile())
	body := sent(t, fake)
	checkText(t, "text", str(t, body, "attachments", 0, "text"), slackMaxText, "<!", "<@")
	checkText(t, "title", str(t, body, "attachments", 0, "title"), 300, "<!")
	checkText(t, "field", str(t, body, "attachments", 0, "fields", 0, "value"), maxFieldValue, "<!")
	if !strings.Contains(str(t, body, "attachments", 0, "text"), "&lt;!here&gt;") {
		t.Errorf("<!here> is not escaped as Slack documents")
	}
}
