package notifier

import (
	"net/http"
	"testing"
)

// The full message format (format=full) with the verification token as
// Authorization: the object or summary as head, the severity as sub
// head, the message and the metadata as fields.
func TestZoomPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "zoom", Address: fake.URL + "/inbound/hook/abc", AddressFromSecret: true, Token: secretToken}
	post(t, build(t, s), testEvent("error"))
	golden(t, "zoom-error", fake.only(t), "Content-Type", "Authorization")

	info := newFakeService(t)
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, Settings{Type: "zoom", Address: info.URL + "/inbound/hook/abc", Token: secretToken}), e)
	golden(t, "zoom-info", info.only(t), "Content-Type")

	// An address that sets a format keeps it.
	fake = newFakeService(t)
	s.Address = fake.URL + "/inbound/hook/abc?format=message"
	post(t, build(t, s), testEvent("info"))
	if r := fake.only(t); r.Query != "format=message" {
		t.Errorf("query %q", r.Query)
	}
	failsWithStatus(t, s, fake, http.StatusUnauthorized)
}

func TestZoomSettings(t *testing.T) {
	ok := Settings{Type: "zoom", Address: "https://integrations.zoom.us/chat/webhooks/incomingwebhook/x", Token: secretToken}
	badAddresses(t, ok, false)
	ok.Token = ""
	refused(t, ok, `"token"`)
}

func TestZoomHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, Settings{Type: "zoom", Address: fake.URL + "/hook", Token: secretToken}), hostile())
	checkText(t, "message", str(t, sent(t, fake), "content", "body", 0, "text"), zoomMaxText)
}
