package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// slackAPI is the Web API method a Slack provider with a token posts to
// when it sets no address.
const slackAPI = "https://slack.com/api/chat.postMessage"

// slackMaxText is Slack's documented bound of a message's text: longer
// ones are truncated by Slack, so the message is cut first, visibly.
const slackMaxText = 40000

// slack posts one attachment in Slack's message format. Discord and
// Rocket.Chat take the same payload (slackLike).
type slack struct {
	s   Settings
	url string
	// token is set for the Web API (chat.postMessage): Bearer auth and
	// an answer whose ok field says whether the message was taken.
	token string
	// maxText bounds the attachment's text; esc escapes what the service
	// would otherwise turn into a mention or a link: Slack's &, <, >
	// entities (Slack, Discord), a broken @ for Rocket.Chat.
	maxText int
	esc     func(string) string
}

type slackPayload struct {
	Channel     string            `json:"channel,omitempty"`
	Username    string            `json:"username,omitempty"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Title      string       `json:"title,omitempty"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
	Fields     []slackField `json:"fields,omitempty"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// newSlack builds a Slack notifier: an incoming webhook (the address), or
// with a token the chat.postMessage API, which needs a channel.
func newSlack(s Settings) (Notifier, error) {
	fallback := ""
	if s.Token != "" {
		fallback = slackAPI
	}
	u, err := s.address("slack", fallback)
	if err != nil {
		return nil, err
	}
	if err := checkChannel("slack", s.Channel, 81); err != nil {
		return nil, err
	}
	if s.Token != "" && s.Channel == "" {
		return nil, fmt.Errorf("slack provider: spec.channel is required with a token (chat.postMessage posts to a channel): set it to a channel name or ID")
	}
	return &slack{s: s, url: u.String(), token: s.Token, maxText: slackMaxText, esc: escapeHTML}, nil
}

func (n *slack) format(e eventv1.Event) ([]byte, error) {
	esc := n.esc
	username := n.s.Username
	if username == "" {
		username = e.ReportingController
	}
	color := "good"
	if isError(e) {
		color = "danger"
	}
	a := slackAttachment{
		Color:      color,
		AuthorName: esc(objectName(e)),
		Text:       cut(esc(clean(e.Message)), n.maxText),
		MrkdwnIn:   []string{"text"},
	}
	if t := title(e); t != objectName(e) {
		a.Title = esc(t)
	}
	for _, f := range fields(e) {
		a.Fields = append(a.Fields, slackField{Title: esc(f.Key), Value: esc(f.Value)})
	}
	return json.Marshal(slackPayload{Channel: n.s.Channel, Username: clean(username), Attachments: []slackAttachment{a}})
}

// Post sends the message. With a token, Slack answers 200 with ok false
// when it refuses the message (a wrong channel, a revoked token): that
// is an error another try does not mend.
func (n *slack) Post(ctx context.Context, e eventv1.Event) error {
	body, err := n.format(e)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("encode the slack payload: %w", err)}
	}
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	if n.token != "" {
		header.Set("Authorization", "Bearer "+n.token)
	}
	answer, err := n.s.do(ctx, request{method: http.MethodPost, url: n.url, body: body, header: header})
	if err != nil || n.token == "" {
		return err
	}
	var result struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(answer, &result); err != nil {
		return &PermanentError{Err: fmt.Errorf("slack: the answer of %s is not the Web API's JSON: check the address is %s", n.s.Redact(n.url), slackAPI)}
	}
	if !result.OK {
		return &PermanentError{Err: fmt.Errorf("slack refused the message (ok: false): %s", n.s.scrub(trim(result.Error, 200)))}
	}
	return nil
}
