package notifier

import (
	"net/http"
	"strings"
	"testing"
)

func webexSettings(fake *fakeService) Settings {
	return Settings{Type: "webex", Address: fake.URL + "/v1/messages", Channel: "Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQ", Token: secretToken}
}

// A Markdown message to the room (spec.channel) with the bot's token.
func TestWebexPayload(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, webexSettings(fake)), testEvent("error"))
	golden(t, "webex-error", fake.only(t), "Content-Type", "Authorization")

	fake = newFakeService(t)
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, webexSettings(fake)), e)
	golden(t, "webex-info", fake.only(t), "Content-Type", "Authorization")
	failsWithStatus(t, webexSettings(fake), fake, http.StatusUnauthorized)
}

func TestWebexSettings(t *testing.T) {
	ok := Settings{Type: "webex", Address: "https://webexapis.com/v1/messages", Channel: "room", Token: secretToken}
	badAddresses(t, ok, false)
	noToken := ok
	noToken.Token = ""
	refused(t, noToken, `"token"`)
	noRoom := ok
	noRoom.Channel = ""
	refused(t, noRoom, "spec.channel", "room ID")
}

// <@all> stays text; the markdown fits Webex's 7,439 bytes.
func TestWebexHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, webexSettings(fake)), hostile())
	md := str(t, sent(t, fake), "markdown")
	checkText(t, "markdown", md, webexMaxMarkdown, "<@", "<!")
	if !strings.Contains(md, "&lt;@U123&gt;") {
		t.Errorf("the mention is not escaped: %.300s", md)
	}
}
