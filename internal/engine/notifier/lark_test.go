package notifier

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// An interactive card: the title in a red or green header, the object,
// the message and the metadata as plain text.
func TestLarkPayload(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(http.StatusOK, `{"code":0,"msg":"success"}`)
	s := Settings{Type: "lark", Address: fake.URL + "/open-apis/bot/v2/hook/abc", AddressFromSecret: true}
	post(t, build(t, s), testEvent("error"))
	golden(t, "lark-error", fake.only(t), "Content-Type", "Authorization")

	fake = newFakeService(t)
	s.Address = fake.URL + "/open-apis/bot/v2/hook/abc"
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, s), e)
	golden(t, "lark-info", fake.only(t), "Content-Type")
}

// Lark answers 200 with a non-zero code when it refuses a message.
func TestLarkFailure(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "lark", Address: fake.URL + "/hook/abc", AddressFromSecret: true}
	fake.answerWith(http.StatusOK, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`)
	err := build(t, s).Post(context.Background(), testEvent("error"))
	var permanent *PermanentError
	if err == nil || !errors.As(err, &permanent) || !strings.Contains(err.Error(), "19021") {
		t.Fatalf("code 19021: %v", err)
	}
	failsWithStatus(t, s, fake, http.StatusTooManyRequests)
}

func TestLarkSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "lark", Address: "https://open.larksuite.com/open-apis/bot/v2/hook/x"}, false)
}

// Texts are plain_text, so <at id=all></at> is not a mention; a 100 KB
// message fits a custom bot's 20 KB request.
func TestLarkHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, Settings{Type: "lark", Address: fake.URL + "/hook"}), hostile())
	body := sent(t, fake)
	for i, el := range dig(t, body, "card", "elements").([]any) {
		if tag := str(t, el, "tag"); tag == "div" && str(t, el, "text", "tag") != "plain_text" {
			t.Errorf("element %d is %s, not plain_text", i, str(t, el, "text", "tag"))
		}
	}
	checkText(t, "message", str(t, body, "card", "elements", 1, "text", "content"), larkMaxText)
	if r := fake.only(t); len(r.Body) > 20<<10 {
		t.Errorf("the request is %d bytes, over 20 KB", len(r.Body))
	}
}
