package notifier

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Zulip's documented bounds: a message's content, a channel's (stream's)
// name and a topic.
const (
	zulipMaxContent = 10000
	zulipMaxStream  = 60
	zulipMaxTopic   = 60
)

// zulip sends a channel (stream) message through the API's
// /api/v1/messages with the bot's e-mail and API key (the Secret's
// username and password) as basic auth; spec.channel is <stream>/<topic>.
type zulip struct {
	s             Settings
	url           string
	stream, topic string
}

func newZulip(s Settings) (Notifier, error) {
	u, err := s.address("zulip", "")
	if err != nil {
		return nil, err
	}
	if s.Username == "" || s.Password == "" {
		return nil, fmt.Errorf("zulip provider: the keys \"username\" and \"password\" of the Secret spec.secretRef names are required: set them to the bot's e-mail and API key")
	}
	stream, topic, ok := strings.Cut(s.Channel, "/")
	stream, topic = strings.TrimSpace(stream), strings.TrimSpace(topic)
	if !ok || stream == "" || topic == "" {
		return nil, fmt.Errorf("zulip provider: spec.channel %q is not <stream>/<topic>: set it to the channel and the topic to post to", s.Channel)
	}
	if utf8.RuneCountInString(stream) > zulipMaxStream || utf8.RuneCountInString(topic) > zulipMaxTopic || strings.IndexFunc(s.Channel, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return nil, fmt.Errorf("zulip provider: spec.channel %q: a stream and a topic are at most %d characters without control characters", s.Channel, zulipMaxTopic)
	}
	if !strings.HasSuffix(u.Path, "/api/v1/messages") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/messages"
		u.RawPath = ""
	}
	return &zulip{s: s, url: u.String(), stream: stream, topic: topic}, nil
}

// zulipMentions breaks Zulip's mention syntax (@**all**, @_**name**,
// @*group*) with a zero-width space, keeping other @s (main@sha1:…).
var zulipMentions = strings.NewReplacer("@*", "@\u200b*", "@_*", "@\u200b_*")

// format is the form Zulip's API takes; the event's text cannot mention
// anyone (zulipMentions).
func (n *zulip) format(e eventv1.Event) ([]byte, error) {
	mark := ":check:"
	if isError(e) {
		mark = ":warning:"
	}
	head := fmt.Sprintf("%s **%s**\n", mark, zulipMentions.Replace(title(e)))
	if title(e) != objectName(e) {
		head += "*" + zulipMentions.Replace(objectName(e)) + "*\n"
	}
	var tail strings.Builder
	for _, f := range fields(e) {
		fmt.Fprintf(&tail, "\n* **%s**: %s", zulipMentions.Replace(f.Key), zulipMentions.Replace(f.Value))
	}
	room := zulipMaxContent - len(head) - tail.Len() - 1
	if room < 200 {
		tail.Reset()
		room = zulipMaxContent - len(head) - 1
	}
	content := head + cut(zulipMentions.Replace(clean(e.Message)), room) + "\n" + tail.String()
	form := url.Values{"type": {"stream"}, "to": {n.stream}, "topic": {n.topic}, "content": {strings.TrimSpace(content)}}
	return []byte(form.Encode()), nil
}

// Post sends the message; Zulip answers {"result": "success"}.
func (n *zulip) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(n.s.Username+":"+n.s.Password)))
	answer, err := send(ctx, n.s, n, e, http.MethodPost, n.url, header)
	if err != nil {
		return err
	}
	var result struct {
		Result string `json:"result"`
		Msg    string `json:"msg"`
	}
	if json.Unmarshal(answer, &result) == nil && result.Result != "" && result.Result != "success" {
		return &PermanentError{Err: fmt.Errorf("zulip refused the message: %s", n.s.scrub(trim(result.Msg, 200)))}
	}
	return nil
}
