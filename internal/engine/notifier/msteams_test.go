package notifier

import (
	"net/http"
	"testing"
)

// A Workflows URL gets an Adaptive Card 1.4; the colour follows the
// severity.
func TestMSTeamsAdaptiveCard(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(http.StatusAccepted, "")
	s := Settings{Type: "msteams", Address: fake.URL + "/workflows/abc/triggers/manual/paths/invoke?sig=x", AddressFromSecret: true}
	post(t, build(t, s), testEvent("error"))
	golden(t, "msteams-error", fake.only(t), "Content-Type", "Authorization")

	fake = newFakeService(t)
	s.Address = fake.URL + "/workflows/abc"
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, s), e)
	golden(t, "msteams-info", fake.only(t), "Content-Type")
	failsWithStatus(t, s, fake, http.StatusBadRequest)
}

// Only an Office 365 connector URL (*.webhook.office.com) gets the legacy
// MessageCard.
func TestMSTeamsMessageCard(t *testing.T) {
	n := build(t, Settings{Type: "msteams", Address: "https://contoso.webhook.office.com/webhookb2/x"}).(*msteams)
	if !n.legacy {
		t.Fatal("an Office 365 connector URL gets an Adaptive Card")
	}
	for _, a := range []string{"https://prod-1.westus.logic.azure.com/workflows/x", "https://webhook.office.com.evil.example/x", "https://evilwebhook.office.com/x"} {
		if build(t, Settings{Type: "msteams", Address: a}).(*msteams).legacy {
			t.Errorf("%s gets a MessageCard", a)
		}
	}
	body, err := n.format(testEvent("error"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "msteams-messagecard", recorded{Method: "FORMAT", Path: "messagecard", Body: body})
}

func TestMSTeamsSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "msteams", Address: "https://x.logic.azure.com/workflows/x"}, false)
}

// Teams refuses a payload over 28 KB: a 100 KB message is cut.
func TestMSTeamsHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, Settings{Type: "msteams", Address: fake.URL + "/workflows/x"}), hostile())
	if r := fake.only(t); len(r.Body) > 28<<10 {
		t.Errorf("the payload is %d bytes, over Teams' 28 KB", len(r.Body))
	}
	checkText(t, "text", str(t, sent(t, fake), "attachments", 0, "content", "body", 2, "text"), msteamsMaxText)
}
