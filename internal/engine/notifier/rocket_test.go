package notifier

import (
	"net/http"
	"strings"
	"testing"
)

// Rocket.Chat's incoming webhook takes Slack's payload.
func TestRocketPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "rocket", Address: fake.URL + "/hooks/abc/def", AddressFromSecret: true, Channel: "#ops", Username: "flux"}
	post(t, build(t, s), testEvent("error"))
	golden(t, "rocket-error", fake.only(t), "Content-Type", "Authorization")

	info := newFakeService(t)
	post(t, build(t, Settings{Type: "rocket", Address: info.URL + "/hooks/abc/def"}), testEvent("info"))
	golden(t, "rocket-info", info.only(t), "Content-Type")
	failsWithStatus(t, s, fake, http.StatusNotFound)
}

func TestRocketSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "rocket", Address: "https://chat.example.com/hooks/x"}, false)
	refused(t, Settings{Type: "rocket", Address: "https://chat.example.com/hooks/x", Channel: "#a\nb"}, "spec.channel")
}

// @all and @here in a message page no one; the message is cut to
// Rocket.Chat's 5,000 characters.
func TestRocketHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, Settings{Type: "rocket", Address: fake.URL + "/hook"}), hostile())
	body := sent(t, fake)
	checkText(t, "text", str(t, body, "attachments", 0, "text"), rocketMaxText, "@here", "@all")
	checkText(t, "title", str(t, body, "attachments", 0, "title"), 300, "@here")
	if !strings.Contains(str(t, body, "attachments", 0, "text"), `"quoted"`) {
		t.Errorf("quotes are lost")
	}
}
