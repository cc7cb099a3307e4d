package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// larkMaxText bounds the message: a custom bot's request is at most
// 20 KB.
const larkMaxText = 15000

// lark posts an interactive card to a Lark (Feishu) custom bot's webhook.
// The card's texts are plain_text, so a message cannot carry Lark's
// <at id=all></at> mention or a link.
type lark struct {
	s   Settings
	url string
}

func newLark(s Settings) (Notifier, error) {
	u, err := s.address("lark", "")
	if err != nil {
		return nil, err
	}
	return &lark{s: s, url: u.String()}, nil
}

func larkText(s string) map[string]string {
	return map[string]string{"tag": "plain_text", "content": s}
}

func (n *lark) format(e eventv1.Event) ([]byte, error) {
	template := "green"
	if isError(e) {
		template = "red"
	}
	elements := []map[string]any{}
	if title(e) != objectName(e) {
		elements = append(elements, map[string]any{"tag": "div", "text": larkText(objectName(e))})
	}
	elements = append(elements, map[string]any{"tag": "div", "text": larkText(message(e, larkMaxText))})
	if fs := fields(e); len(fs) > 0 {
		var lines []string
		for _, f := range fs {
			lines = append(lines, f.Key+": "+f.Value)
		}
		elements = append(elements, map[string]any{"tag": "hr"}, map[string]any{"tag": "div", "text": larkText(strings.Join(lines, "\n"))})
	}
	return json.Marshal(map[string]any{
		"msg_type": "interactive",
		"card": map[string]any{
			"config":   map[string]bool{"wide_screen_mode": true},
			"header":   map[string]any{"title": larkText(title(e)), "template": template},
			"elements": elements,
		},
	})
}

// Post sends the card. Lark answers 200 with a non-zero code when it
// refuses one (a wrong signature, a bad card).
func (n *lark) Post(ctx context.Context, e eventv1.Event) error {
	answer, err := send(ctx, n.s, n, e, http.MethodPost, n.url, nil)
	if err != nil {
		return err
	}
	var result struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(answer, &result) == nil && result.Code != nil && *result.Code != 0 {
		return &PermanentError{Err: fmt.Errorf("lark refused the message (code %d): %s", *result.Code, n.s.scrub(trim(result.Msg, 200)))}
	}
	return nil
}
