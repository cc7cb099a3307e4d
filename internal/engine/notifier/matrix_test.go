package notifier

import (
	"net/http"
	"strings"
	"testing"
)

func matrixSettings(fake *fakeService) Settings {
	return Settings{Type: "matrix", Address: fake.URL, Channel: "!qporfwt:matrix.example.org", Token: secretToken}
}

// A PUT of an m.room.message under a transaction ID that is the event's
// digest, so the same event sent twice is one message.
func TestMatrixPayload(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(http.StatusOK, `{"event_id":"$x"}`)
	n := build(t, matrixSettings(fake))
	post(t, n, testEvent("error"))
	golden(t, "matrix-error", fake.only(t), "Content-Type", "Authorization")

	info := newFakeService(t)
	post(t, build(t, matrixSettings(info)), testEvent("info"))
	golden(t, "matrix-info", info.only(t), "Content-Type")

	post(t, n, testEvent("error"))
	post(t, n, testEvent("info"))
	got := fake.received()
	if got[0].Path != got[1].Path || got[0].Path == got[2].Path {
		t.Errorf("transaction IDs: %s, %s, %s (want the same event's equal, another's different)", got[0].Path, got[1].Path, got[2].Path)
	}
	failsWithStatus(t, matrixSettings(fake), fake, http.StatusForbidden)
}

func TestMatrixSettings(t *testing.T) {
	ok := Settings{Type: "matrix", Address: "https://matrix.example.org", Channel: "!room:example.org", Token: secretToken}
	badAddresses(t, ok, false)
	for _, channel := range []string{"", "#alias:example.org", "!noserver", "! x:y"} {
		c := ok
		c.Channel = channel
		refused(t, c, "spec.channel")
	}
	ok.Token = ""
	refused(t, ok, `"token"`)
}

// A room ID with / or ? stays one path segment; @room notifies no one (an
// empty m.mentions); a 100 KB message fits Matrix's 65,536-byte event.
func TestMatrixHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	s := matrixSettings(fake)
	s.Channel = "!a/../../admin?x=1:example.org"
	post(t, build(t, s), hostile())
	r := fake.only(t)
	if !strings.HasPrefix(r.Path, "/_matrix/client/r0/rooms/!a/../../admin?x=1:example.org/send/m.room.message/") || r.Query != "" {
		t.Errorf("the room left its path segment: %s?%s", r.Path, r.Query)
	}
	body := sent(t, fake)
	if m, ok := dig(t, body, "m.mentions").(map[string]any); !ok || len(m) != 0 {
		t.Errorf("m.mentions = %v, want {}", dig(t, body, "m.mentions"))
	}
	checkText(t, "body", str(t, body, "body"), 60000)
	if len(r.Body) > 65536 {
		t.Errorf("the event is %d bytes", len(r.Body))
	}
}
