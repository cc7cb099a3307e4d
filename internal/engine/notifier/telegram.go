package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// telegramAPI is the Bot API's address when the Provider sets none.
const telegramAPI = "https://api.telegram.org"

// telegramMaxText is the Bot API's bound of a message's text, counted
// after the MarkdownV2 escapes are parsed away.
const telegramMaxText = 4096

var (
	// telegramToken is the shape of a bot token (123456:ABC-def_ghi): it
	// goes in the URL's path, so nothing else may.
	telegramToken = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	// telegramChat is a chat ID or a public channel's @username.
	telegramChat = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$`)
)

// telegram sends a MarkdownV2 message through the Bot API's sendMessage,
// the token in the path (/bot<token>/sendMessage); spec.channel is the
// chat, optionally with a forum topic: <chat>:<thread>.
type telegram struct {
	s      Settings
	url    string
	chat   string
	thread int64
}

func newTelegram(s Settings) (Notifier, error) {
	u, err := s.address("telegram", telegramAPI)
	if err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, fmt.Errorf("telegram provider: the key \"token\" of the Secret spec.secretRef names is missing: set it to the bot's token")
	}
	if !telegramToken.MatchString(s.Token) {
		return nil, fmt.Errorf("telegram provider: the key \"token\" of the Secret is not a bot token (<digits>:<letters, digits, _ and ->)")
	}
	chat, thread, _ := strings.Cut(s.Channel, ":")
	if !telegramChat.MatchString(chat) {
		return nil, fmt.Errorf("telegram provider: spec.channel %q is not a chat: set a chat ID (-1001234567890) or @channelname, optionally followed by :<thread ID>", s.Channel)
	}
	t := &telegram{chat: chat}
	if thread != "" {
		t.thread, err = strconv.ParseInt(thread, 10, 64)
		if err != nil || t.thread <= 0 {
			return nil, fmt.Errorf("telegram provider: the thread of spec.channel %q is not a positive number", s.Channel)
		}
	}
	// The URL carries the token: errors show only its scheme and host.
	s.AddressFromSecret = true
	t.s = s
	u.Path = strings.TrimSuffix(u.Path, "/") + "/bot" + s.Token + "/sendMessage"
	u.RawPath, u.Fragment = "", ""
	t.url = u.String()
	return t, nil
}

// telegramEscape escapes every character MarkdownV2 gives a meaning, as
// the Bot API documents: _ * [ ] ( ) ~ ` > # + - = | { } . ! and \.
var telegramEscape = strings.NewReplacer(
	`\`, `\\`, "_", `\_`, "*", `\*`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`, "~", `\~`,
	"`", "\\`", ">", `\>`, "#", `\#`, "+", `\+`, "-", `\-`, "=", `\=`, "|", `\|`,
	"{", `\{`, "}", `\}`, ".", `\.`, "!", `\!`,
)

func (n *telegram) format(e eventv1.Event) ([]byte, error) {
	mark := "✅"
	if isError(e) {
		mark = "❌"
	}
	// Lengths are counted on the plain text, as Telegram counts them.
	head := mark + " " + title(e) + "\n"
	sub := ""
	if title(e) != objectName(e) {
		sub = objectName(e) + "\n"
	}
	var tail, plainTail strings.Builder
	for _, f := range fields(e) {
		fmt.Fprintf(&tail, "\n*%s*: %s", telegramEscape.Replace(f.Key), telegramEscape.Replace(f.Value))
		plainTail.WriteString("\n" + f.Key + ": " + f.Value)
	}
	room := telegramMaxText - len(head) - len(sub) - plainTail.Len() - 1
	if room < 200 {
		tail.Reset()
		room = telegramMaxText - len(head) - len(sub) - 1
	}
	text := mark + " *" + telegramEscape.Replace(title(e)) + "*\n"
	if sub != "" {
		text += "_" + telegramEscape.Replace(objectName(e)) + "_\n"
	}
	text += telegramEscape.Replace(message(e, room)) + "\n" + tail.String()
	payload := map[string]any{"chat_id": n.chat, "text": strings.TrimSpace(text), "parse_mode": "MarkdownV2"}
	if n.thread != 0 {
		payload["message_thread_id"] = n.thread
	}
	return json.Marshal(payload)
}

// Post sends the message.
func (n *telegram) Post(ctx context.Context, e eventv1.Event) error {
	_, err := send(ctx, n.s, n, e, http.MethodPost, n.url, nil)
	return err
}
