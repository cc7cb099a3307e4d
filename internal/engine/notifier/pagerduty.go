package notifier

import (
	"context"
	"fmt"
	"net/url"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// pagerDutyHost is where Events API v2 lives when the Provider names no
// address.
const pagerDutyHost = "https://events.pagerduty.com"

// pagerDutySummaryLimit is the longest summary PagerDuty accepts.
const pagerDutySummaryLimit = 1024

// pagerduty sends Events API v2 events: an error triggers an alert, an
// info event resolves it (the object's UID is the dedup key) and is also
// a change event on the service's timeline.
type pagerduty struct {
	s    Settings
	base *url.URL
}

func newPagerDuty(s Settings) (Notifier, error) {
	if s.Address == "" {
		s.Address = pagerDutyHost
	}
	base, err := httpAddress(s)
	if err != nil {
		return nil, err
	}
	if s.Channel == "" {
		return nil, fmt.Errorf("pagerduty provider: no routing key: set spec.channel to the integration key of the service")
	}
	return &pagerduty{s: s, base: base}, nil
}

// pdEvent is an Events API v2 alert event.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
}

// pdPayload describes the alert of a trigger, or a change.
type pdPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity,omitempty"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// pdChange is an Events API v2 change event.
type pdChange struct {
	RoutingKey string    `json:"routing_key"`
	Payload    pdPayload `json:"payload"`
}

func (n *pagerduty) Post(ctx context.Context, e eventv1.Event) error {
	payload := pagerDutyPayload(e)
	if e.Severity == eventv1.EventSeverityError {
		payload.Severity = "error"
		_, err := n.s.postJSON(ctx, serviceURL(n.base, "/v2/enqueue"), pdEvent{
			RoutingKey: n.s.Channel, EventAction: "trigger", DedupKey: string(e.InvolvedObject.UID), Payload: &payload,
		}, nil)
		return err
	}
	if _, err := n.s.postJSON(ctx, serviceURL(n.base, "/v2/enqueue"), pdEvent{
		RoutingKey: n.s.Channel, EventAction: "resolve", DedupKey: string(e.InvolvedObject.UID),
	}, nil); err != nil {
		return err
	}
	// A change event carries no severity, component, group or class.
	change := pdPayload{Summary: payload.Summary, Source: payload.Source, Timestamp: payload.Timestamp, CustomDetails: payload.CustomDetails}
	_, err := n.s.postJSON(ctx, serviceURL(n.base, "/v2/change/enqueue"), pdChange{RoutingKey: n.s.Channel, Payload: change}, nil)
	return err
}

// pagerDutyPayload is what both kinds of event say about the object.
func pagerDutyPayload(e eventv1.Event) pdPayload {
	details := map[string]string{}
	for k, v := range e.Metadata {
		details[k] = v
	}
	details["message"] = eventMessage(e)
	p := pdPayload{
		Summary:       cutRunes(objectRef(e)+": "+e.Message, pagerDutySummaryLimit),
		Source:        objectRef(e),
		Component:     e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		Group:         e.InvolvedObject.Namespace,
		Class:         e.Reason,
		CustomDetails: details,
	}
	if !e.Timestamp.IsZero() {
		p.Timestamp = e.Timestamp.UTC().Format(time.RFC3339)
	}
	return p
}
