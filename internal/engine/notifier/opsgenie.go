package notifier

import (
	"context"
	"net/http"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Opsgenie's documented limits of an alert's fields, in characters, and
// of its tags.
const (
	opsgenieMessageLimit     = 130
	opsgenieDescriptionLimit = 15000
	opsgenieTagLimit         = 50
	opsgenieMaxTags          = 20
)

// opsgenie creates an Opsgenie alert at the address
// (https://api.opsgenie.com/v2/alerts) with the GenieKey token.
type opsgenie struct {
	s Settings
}

func newOpsgenie(s Settings) (Notifier, error) {
	if _, err := httpAddress(s); err != nil {
		return nil, err
	}
	if err := requireToken(s, "API key"); err != nil {
		return nil, err
	}
	return &opsgenie{s: s}, nil
}

// opsgenieAlert is the create-alert request.
type opsgenieAlert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Source      string            `json:"source,omitempty"`
	Priority    string            `json:"priority,omitempty"`
}

func (n *opsgenie) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{}
	header.Set("Authorization", "GenieKey "+n.s.Token)
	_, err := n.s.postJSON(ctx, n.s.Address, opsgeniePayload(e), header)
	return err
}

// opsgeniePayload is the alert: the object and the start of the message
// as its message, the whole message as description, the metadata as
// details, and an error a higher priority than info.
func opsgeniePayload(e eventv1.Event) opsgenieAlert {
	details := map[string]string{}
	for k, v := range e.Metadata {
		details[k] = v
	}
	priority := "P5"
	if e.Severity == eventv1.EventSeverityError {
		priority = "P3"
	}
	return opsgenieAlert{
		Message:     cutRunes(objectRef(e)+": "+e.Message, opsgenieMessageLimit),
		Alias:       string(e.InvolvedObject.UID),
		Description: cutRunes(e.Message, opsgenieDescriptionLimit),
		Tags:        opsgenieTags("flux", e.Severity, e.InvolvedObject.Kind, e.Reason),
		Details:     details,
		Source:      e.ReportingController,
		Priority:    priority,
	}
}

// opsgenieTags are the non-empty tags, each cut to 50 characters, at most
// 20 of them.
func opsgenieTags(tags ...string) []string {
	var out []string
	for _, tag := range tags {
		if tag = strings.TrimSpace(tag); tag != "" && len(out) < opsgenieMaxTags {
			out = append(out, cutRunes(tag, opsgenieTagLimit))
		}
	}
	return out
}
