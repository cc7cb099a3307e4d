package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// webexMaxMarkdown is Webex's documented bound of a message's markdown.
const webexMaxMarkdown = 7439

// webex posts a Markdown message to a room through the Messages API
// (address https://webexapis.com/v1/messages), authenticated with the
// bot's token; the room ID is spec.channel.
type webex struct {
	s   Settings
	url string
}

func newWebex(s Settings) (Notifier, error) {
	u, err := s.address("webex", "")
	if err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, fmt.Errorf("webex provider: the key \"token\" of the Secret spec.secretRef names is missing: set it to the bot's access token")
	}
	if s.Channel == "" {
		return nil, fmt.Errorf("webex provider: spec.channel is required: set it to the room ID")
	}
	if err := checkChannel("webex", s.Channel, 256); err != nil {
		return nil, err
	}
	return &webex{s: s, url: u.String()}, nil
}

func (n *webex) format(e eventv1.Event) ([]byte, error) {
	mark := "✅"
	if isError(e) {
		mark = "❌"
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s **%s**\n", mark, escapeHTML(title(e)))
	if title(e) != objectName(e) {
		fmt.Fprintf(&head, "_%s_\n", escapeHTML(objectName(e)))
	}
	var tail strings.Builder
	for _, f := range fields(e) {
		fmt.Fprintf(&tail, "\n- **%s**: %s", escapeHTML(f.Key), escapeHTML(f.Value))
	}
	// The message takes what the bound leaves; escaping can lengthen it,
	// so it is escaped before it is cut.
	room := webexMaxMarkdown - head.Len() - tail.Len() - 1
	if room < 200 {
		tail.Reset()
		room = webexMaxMarkdown - head.Len() - 1
	}
	text := head.String() + cut(escapeHTML(clean(e.Message)), room) + "\n" + tail.String()
	return json.Marshal(map[string]string{"roomId": n.s.Channel, "markdown": strings.TrimSpace(text)})
}

// Post sends the message.
func (n *webex) Post(ctx context.Context, e eventv1.Event) error {
	_, err := send(ctx, n.s, n, e, http.MethodPost, n.url, http.Header{"Authorization": {"Bearer " + n.s.Token}})
	return err
}
