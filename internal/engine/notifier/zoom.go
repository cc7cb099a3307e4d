package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// zoomMaxText keeps a message well within what Team Chat shows in one message.
const zoomMaxText = 4000

// zoom posts to Zoom Team Chat's Incoming Webhook chatbot in its full
// message format (format=full is added unless the address sets a format),
// the connection's verification token, unprefixed, as Authorization.
type zoom struct {
	s   Settings
	url string
}

func newZoom(s Settings) (Notifier, error) {
	u, err := s.address("zoom", "")
	if err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, fmt.Errorf("zoom provider: the key \"token\" of the Secret spec.secretRef names is missing: set it to the webhook's verification token")
	}
	q := u.Query()
	if !q.Has("format") {
		q.Set("format", "full")
		u.RawQuery = q.Encode()
	}
	return &zoom{s: s, url: u.String()}, nil
}

func (n *zoom) format(e eventv1.Event) ([]byte, error) {
	sub := e.Severity
	if title(e) != objectName(e) {
		sub = e.Severity + " · " + objectName(e)
	}
	body := []map[string]any{{"type": "message", "text": message(e, zoomMaxText)}}
	if fs := fields(e); len(fs) > 0 {
		items := make([]map[string]string, 0, len(fs))
		for _, f := range fs {
			items = append(items, map[string]string{"key": f.Key, "value": f.Value})
		}
		body = append(body, map[string]any{"type": "fields", "items": items})
	}
	return json.Marshal(map[string]any{"content": map[string]any{
		"head": map[string]any{"text": title(e), "sub_head": map[string]string{"text": clean(sub)}},
		"body": body,
	}})
}

// Post sends the message.
func (n *zoom) Post(ctx context.Context, e eventv1.Event) error {
	_, err := send(ctx, n.s, n, e, http.MethodPost, n.url, http.Header{"Authorization": {n.s.Token}})
	return err
}
