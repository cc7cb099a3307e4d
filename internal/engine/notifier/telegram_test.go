package notifier

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func telegramSettings(fake *fakeService) Settings {
	return Settings{Type: "telegram", Address: fake.URL, Channel: "-1001234567890:42", Token: secretToken}
}

// sendMessage with the token in the path, the chat and thread from
// spec.channel, MarkdownV2 with every special character escaped.
func TestTelegramPayload(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, telegramSettings(fake)), testEvent("error"))
	golden(t, "telegram-error", fake.only(t), "Content-Type", "Authorization")

	fake = newFakeService(t)
	s := telegramSettings(fake)
	s.Channel = "@flux_alerts"
	e := testEvent("info")
	delete(e.Metadata, "summary")
	post(t, build(t, s), e)
	golden(t, "telegram-info", fake.only(t), "Content-Type")
}

// The token is in the URL: a failure shows the host only.
func TestTelegramFailure(t *testing.T) {
	fake := newFakeService(t)
	s := telegramSettings(fake)
	failsWithStatus(t, s, fake, http.StatusBadRequest)
	err := build(t, s).Post(context.Background(), testEvent("error"))
	if strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "/***") {
		t.Errorf("error %q", err)
	}
	for address, want := range map[string]string{
		"":                                 telegramAPI + "/bot" + secretToken + "/sendMessage",
		"https://tg.example/api/?x=1#frag": "https://tg.example/api/bot" + secretToken + "/sendMessage?x=1",
	} {
		if got := build(t, Settings{Type: "telegram", Address: address, Channel: "123", Token: secretToken}).(*telegram).url; got != want {
			t.Errorf("address %q sends to %s, want %s", address, got, want)
		}
	}
}

func TestTelegramSettings(t *testing.T) {
	ok := Settings{Type: "telegram", Channel: "-100123", Token: secretToken}
	badAddresses(t, ok, true)
	for _, channel := range []string{"", "general", "-100123:abc", "-100123:-1", "-100123:0", "@ab", "12 3", "@x/../../"} {
		c := ok
		c.Channel = channel
		refused(t, c, "spec.channel")
	}
	noToken := ok
	noToken.Token = ""
	refused(t, noToken, `"token"`)
	// A token reaches the URL's path: one that would change the path is
	// refused without being printed.
	for _, token := range []string{"123:abc/../../x", "123:abc?x=1", "abc", "123:abc#f"} {
		c := ok
		c.Token = token
		refused(t, c, "not a bot token")
	}
}

// Every MarkdownV2 special character is escaped, and the text stays
// within the Bot API's 4,096 characters once the escapes are parsed.
func TestTelegramHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	post(t, build(t, telegramSettings(fake)), hostile())
	text := str(t, sent(t, fake), "text")
	checkText(t, "text", text, 3*telegramMaxText)
	plain := unescapeMarkdownV2(t, text)
	if n := len([]rune(plain)); n > telegramMaxText {
		t.Errorf("the parsed text is %d characters, over %d", n, telegramMaxText)
	}
	if !strings.Contains(plain, "[link](https://evil.example)") {
		t.Errorf("the message's Markdown is not kept as text: %.200s", plain)
	}
}

// unescapeMarkdownV2 checks every special character of text is escaped
// but the formatting the notifier adds (bold and italic lines) and
// returns the text without escapes and formatting.
func unescapeMarkdownV2(t *testing.T, text string) string {
	t.Helper()
	var b strings.Builder
	escaped := false
	for _, r := range text {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '*' || r == '_':
			// The notifier's own bold and italic.
		case strings.ContainsRune("[]()~`>#+-=|{}.!", r):
			t.Fatalf("unescaped %q in %.200q", r, text)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
