package notifier

import (
	"net/http"
	"strings"
	"testing"
)

// Discord gets Slack's payload at the webhook's /slack endpoint.
func TestDiscordPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "discord", Address: fake.URL + "/api/webhooks/123/tok", AddressFromSecret: true}
	post(t, build(t, s), testEvent("error"))
	golden(t, "discord-error", fake.only(t), "Content-Type", "Authorization")

	// An address that already names /slack is kept; a query (thread_id)
	// survives.
	fake = newFakeService(t)
	s.Address = fake.URL + "/api/webhooks/123/tok/slack?thread_id=9"
	post(t, build(t, s), testEvent("info"))
	if r := fake.only(t); r.Path != "/api/webhooks/123/tok/slack" || r.Query != "thread_id=9" {
		t.Errorf("posted to %s?%s", r.Path, r.Query)
	}
	failsWithStatus(t, s, fake, http.StatusBadRequest)
}

func TestDiscordSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "discord", Address: "https://discord.com/api/webhooks/1/x"}, false)
}

// An embed's description is at most 4096 characters; mentions stay text.
func TestDiscordHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, Settings{Type: "discord", Address: fake.URL + "/hook"}), hostile())
	text := str(t, sent(t, fake), "attachments", 0, "text")
	checkText(t, "text", text, discordMaxText, "<@", "<!")
	if !strings.HasSuffix(text, "…") {
		t.Errorf("the cut is not marked")
	}
}
