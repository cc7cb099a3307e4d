package notifier

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// msteamsMaxText bounds the message in a Teams card: Teams refuses a
// webhook payload over 28 KB, and the facts need room too.
const msteamsMaxText = 20000

// msteams posts to Microsoft Teams: an Adaptive Card 1.4 to a Workflows
// (Power Automate) URL, or the legacy MessageCard to an Office 365
// connector URL (*.webhook.office.com), the only kind that takes it.
type msteams struct {
	s      Settings
	url    string
	legacy bool
}

func newMSTeams(s Settings) (Notifier, error) {
	u, err := s.address("msteams", "")
	if err != nil {
		return nil, err
	}
	host := strings.ToLower(u.Hostname())
	return &msteams{s: s, url: u.String(), legacy: strings.HasSuffix(host, ".webhook.office.com")}, nil
}

type adaptiveMessage struct {
	Type        string               `json:"type"`
	Attachments []adaptiveAttachment `json:"attachments"`
}

type adaptiveAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"`
	Content     adaptiveCard `json:"content"`
}

type adaptiveCard struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"`
	Version string           `json:"version"`
	Body    []map[string]any `json:"body"`
}

type messageCard struct {
	Type       string               `json:"@type"`
	Context    string               `json:"@context"`
	ThemeColor string               `json:"themeColor"`
	Summary    string               `json:"summary"`
	Sections   []messageCardSection `json:"sections"`
}

type messageCardSection struct {
	ActivityTitle    string            `json:"activityTitle"`
	ActivitySubtitle string            `json:"activitySubtitle"`
	Text             string            `json:"text"`
	Markdown         bool              `json:"markdown"`
	Facts            []messageCardFact `json:"facts,omitempty"`
}

type messageCardFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (n *msteams) format(e eventv1.Event) ([]byte, error) {
	if n.legacy {
		return n.messageCard(e)
	}
	color := "good"
	if isError(e) {
		color = "attention"
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": title(e), "weight": "bolder", "size": "medium", "color": color, "wrap": true},
	}
	if title(e) != objectName(e) {
		body = append(body, map[string]any{"type": "TextBlock", "text": objectName(e), "isSubtle": true, "spacing": "none", "wrap": true})
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": message(e, msteamsMaxText), "wrap": true})
	if fs := fields(e); len(fs) > 0 {
		facts := make([]map[string]string, 0, len(fs))
		for _, f := range fs {
			facts = append(facts, map[string]string{"title": f.Key, "value": f.Value})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	return json.Marshal(adaptiveMessage{
		Type: "message",
		Attachments: []adaptiveAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: adaptiveCard{
				Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
				Type:    "AdaptiveCard",
				Version: "1.4",
				Body:    body,
			},
		}},
	})
}

func (n *msteams) messageCard(e eventv1.Event) ([]byte, error) {
	color := "2eb886"
	if isError(e) {
		color = "d9534f"
	}
	section := messageCardSection{
		ActivityTitle:    title(e),
		ActivitySubtitle: objectName(e),
		Text:             message(e, msteamsMaxText),
		Markdown:         false,
	}
	for _, f := range fields(e) {
		section.Facts = append(section.Facts, messageCardFact{Name: f.Key, Value: f.Value})
	}
	return json.Marshal(messageCard{
		Type:       "MessageCard",
		Context:    "http://schema.org/extensions",
		ThemeColor: color,
		Summary:    objectName(e),
		Sections:   []messageCardSection{section},
	})
}

// Post sends the card; a Workflows URL answers 202 Accepted.
func (n *msteams) Post(ctx context.Context, e eventv1.Event) error {
	_, err := send(ctx, n.s, n, e, http.MethodPost, n.url, nil)
	return err
}
