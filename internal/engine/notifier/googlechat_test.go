package notifier

import (
	"net/http"
	"testing"
)

// A card: the summary (or the object) as header, the message, then a
// decorated text per metadata key.
func TestGoogleChatPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "googlechat", Address: fake.URL + "/v1/spaces/AAA/messages?key=k&token=t", AddressFromSecret: true}
	post(t, build(t, s), testEvent("error"))
	golden(t, "googlechat-error", fake.only(t), "Content-Type", "Authorization")

	info := newFakeService(t)
	post(t, build(t, Settings{Type: "googlechat", Address: info.URL + "/v1/spaces/AAA/messages"}), testEvent("info"))
	golden(t, "googlechat-info", info.only(t), "Content-Type")
	failsWithStatus(t, s, fake, http.StatusInternalServerError)
}

func TestGoogleChatSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "googlechat", Address: "https://chat.googleapis.com/v1/spaces/x/messages"}, false)
}

// <users/all> stays text, and a 100 KB message fits Google Chat's 32,000
// bytes.
func TestGoogleChatHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, Settings{Type: "googlechat", Address: fake.URL + "/x"}), hostile())
	body := sent(t, fake)
	checkText(t, "text", str(t, body, "cardsV2", 0, "card", "sections", 0, "widgets", 0, "textParagraph", "text"), googleChatMaxText, "<users/all>", "<a")
	if r := fake.only(t); len(r.Body) > 32000*6/5 {
		t.Errorf("the payload is %d bytes", len(r.Body))
	}
}
