package notifier

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func zulipSettings(fake *fakeService) Settings {
	return Settings{Type: "zulip", Address: fake.URL, Channel: "ops/flux alerts", Username: "flux-bot@example.zulipchat.com", Password: "zulip-api-key-123"}
}

// A channel message (type stream, to, topic) to /api/v1/messages with the
// bot's e-mail and API key as basic auth, the content in Markdown.
func TestZulipPayload(t *testing.T) {
	fake := newFakeService(t)
	fake.answerWith(http.StatusOK, `{"result":"success","msg":"","id":42}`)
	post(t, build(t, zulipSettings(fake)), testEvent("error"))
	golden(t, "zulip-error", fake.only(t), "Content-Type", "Authorization")

	info := newFakeService(t)
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, zulipSettings(info)), e)
	golden(t, "zulip-info", info.only(t), "Content-Type")
	form, err := url.ParseQuery(string(fake.only(t).Body))
	if err != nil || form.Get("type") != "stream" || form.Get("to") != "ops" || form.Get("topic") != "flux alerts" {
		t.Errorf("form %v, %v", form, err)
	}
}

func TestZulipFailure(t *testing.T) {
	fake := newFakeService(t)
	s := zulipSettings(fake)
	fake.answerWith(http.StatusOK, `{"result":"error","msg":"Stream 'ops' does not exist","code":"STREAM_DOES_NOT_EXIST"}`)
	err := build(t, s).Post(context.Background(), testEvent("error"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("result error: %v", err)
	}
	failsWithStatus(t, s, fake, http.StatusUnauthorized)
}

func TestZulipSettings(t *testing.T) {
	ok := Settings{Type: "zulip", Address: "https://example.zulipchat.com", Channel: "ops/alerts", Username: "bot@example.com", Password: "key-12345"}
	badAddresses(t, ok, false)
	for _, channel := range []string{"", "ops", "ops/", "/alerts", "ops/" + strings.Repeat("t", 61), "ops/a\nb"} {
		c := ok
		c.Channel = channel
		refused(t, c, "spec.channel")
	}
	c := ok
	c.Password = ""
	refused(t, c, `"password"`)
	if got := build(t, ok).(*zulip).url; got != "https://example.zulipchat.com/api/v1/messages" {
		t.Errorf("url %s", got)
	}
}

// @**all** pages no one; the content fits Zulip's 10,000 bytes.
func TestZulipHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, zulipSettings(fake)), hostile())
	form, err := url.ParseQuery(string(fake.only(t).Body))
	if err != nil {
		t.Fatal(err)
	}
	checkText(t, "content", form.Get("content"), zulipMaxContent, "@**all**", "@*", "@_*")
}
