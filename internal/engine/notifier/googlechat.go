package notifier

import (
	"context"
	"encoding/json"
	"net/http"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// googleChatMaxText bounds the message: Google Chat refuses a message
// over 32,000 bytes, and the card's other parts need room.
const googleChatMaxText = 24000

// googleChat posts a card (cardsV2) to a Google Chat space's incoming
// webhook. Card text takes simple HTML, so the event's text is
// entity-escaped: <users/all> in a message stays text.
type googleChat struct {
	s   Settings
	url string
}

func newGoogleChat(s Settings) (Notifier, error) {
	u, err := s.address("googlechat", "")
	if err != nil {
		return nil, err
	}
	return &googleChat{s: s, url: u.String()}, nil
}

type googleChatMessage struct {
	CardsV2 []googleChatCardV2 `json:"cardsV2"`
}

type googleChatCardV2 struct {
	CardID string         `json:"cardId"`
	Card   googleChatCard `json:"card"`
}

type googleChatCard struct {
	Header   googleChatHeader    `json:"header"`
	Sections []googleChatSection `json:"sections"`
}

type googleChatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
}

type googleChatSection struct {
	Widgets []map[string]any `json:"widgets"`
}

func (n *googleChat) format(e eventv1.Event) ([]byte, error) {
	subtitle := e.Severity
	if title(e) != objectName(e) {
		subtitle = e.Severity + " · " + objectName(e)
	}
	card := googleChatCard{
		Header: googleChatHeader{Title: title(e), Subtitle: clean(subtitle)},
		Sections: []googleChatSection{{Widgets: []map[string]any{
			{"textParagraph": map[string]string{"text": cut(escapeHTML(clean(e.Message)), googleChatMaxText)}},
		}}},
	}
	if fs := fields(e); len(fs) > 0 {
		var widgets []map[string]any
		for _, f := range fs {
			widgets = append(widgets, map[string]any{"decoratedText": map[string]string{"topLabel": escapeHTML(f.Key), "text": escapeHTML(f.Value)}})
		}
		card.Sections = append(card.Sections, googleChatSection{Widgets: widgets})
	}
	return json.Marshal(googleChatMessage{CardsV2: []googleChatCardV2{{CardID: "flux-event", Card: card}}})
}

// Post sends the card.
func (n *googleChat) Post(ctx context.Context, e eventv1.Event) error {
	_, err := send(ctx, n.s, n, e, http.MethodPost, n.url, http.Header{"Content-Type": {"application/json; charset=UTF-8"}})
	return err
}
