package notifier

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// chatSettings are valid settings of every chat type and the two generic
// webhooks, for the fuzz target.
func chatSettings() []Settings {
	return []Settings{
		{Type: "slack", Address: "https://hooks.slack.com/services/x", Channel: "#flux"},
		{Type: "slack", Token: secretToken, Channel: "C123"},
		{Type: "discord", Address: "https://discord.com/api/webhooks/1/x"},
		{Type: "rocket", Address: "https://chat.example.com/hooks/x"},
		{Type: "msteams", Address: "https://prod.westus.logic.azure.com/workflows/x"},
		{Type: "msteams", Address: "https://contoso.webhook.office.com/webhookb2/x"},
		{Type: "googlechat", Address: "https://chat.googleapis.com/v1/spaces/x/messages"},
		{Type: "webex", Address: "https://webexapis.com/v1/messages", Channel: "room", Token: secretToken},
		{Type: "telegram", Channel: "-100123:7", Token: secretToken},
		{Type: "lark", Address: "https://open.larksuite.com/open-apis/bot/v2/hook/x"},
		{Type: "zoom", Address: "https://integrations.zoom.us/chat/webhooks/incomingwebhook/x", Token: secretToken},
		{Type: "matrix", Address: "https://matrix.example.org", Channel: "!room:example.org", Token: secretToken},
		{Type: "zulip", Address: "https://example.zulipchat.com", Channel: "ops/flux", Username: "bot@example.com", Password: "key-12345"},
		{Type: "generic", Address: "https://hooks.example.com/x"},
		{Type: "generic-hmac", Address: "https://hooks.example.com/x", Token: secretToken},
	}
}

// Every formatter takes any message, metadata and object: it must not
// panic, and must produce valid JSON (a valid form for Zulip) whose texts
// are valid UTF-8.
func FuzzChatPayloads(f *testing.F) {
	f.Add("Health check failed", "revision", "main@sha1:abc", "summary", "error", "apps")
	f.Add("<!here> *bold* _it_ `code` [l](u) @**all** <at id=all></at>", "<b>", "\"q\"\\", "", "info", "a.b")
	f.Add(strings.Repeat("é", 30000), "k", strings.Repeat("\\", 3000), "s", "error", "")
	f.Add("\xff\xfe\x00\x1b\r\n\u2028", "\x00", "\xc3", "\xe2\x82", "trace", "\x7f")
	notifiers := map[string]formatter{}
	for _, s := range chatSettings() {
		n, err := New(s)
		if err != nil {
			f.Fatalf("New(%s): %v", s.Type, err)
		}
		notifiers[s.Type+" "+s.Address] = n.(formatter)
	}
	f.Fuzz(func(t *testing.T, msg, key, value, summary, severity, name string) {
		e := testEvent(severity)
		e.Message = msg
		e.InvolvedObject.Name = name
		e.Metadata = map[string]string{key: value, "summary": summary}
		for typ, n := range notifiers {
			body, err := n.format(e)
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			if strings.HasPrefix(typ, "zulip") {
				form, err := url.ParseQuery(string(body))
				if err != nil || !utf8.ValidString(form.Get("content")) || len(form.Get("content")) > zulipMaxContent {
					t.Fatalf("%s: form %v", typ, err)
				}
				continue
			}
			if !json.Valid(body) {
				t.Fatalf("%s: invalid JSON %.200s", typ, body)
			}
		}
	})
}
