package notifier

import (
	"context"
	"net/http"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// incidentIO posts to an incident.io HTTP alert source
// (https://api.incident.io/v2/alert_events/http/<source id>) with the
// source's Bearer token: an error fires the alert, an info event
// resolves it, the object's UID deduplicating.
type incidentIO struct {
	s Settings
}

func newIncidentIO(s Settings) (Notifier, error) {
	if _, err := httpAddress(s); err != nil {
		return nil, err
	}
	if err := requireToken(s, "alert source token"); err != nil {
		return nil, err
	}
	return &incidentIO{s: s}, nil
}

// incidentIOEvent is an alert event of an HTTP alert source.
type incidentIOEvent struct {
	Title            string            `json:"title"`
	Description      string            `json:"description"`
	DeduplicationKey string            `json:"deduplication_key"`
	Status           string            `json:"status"`
	Metadata         map[string]string `json:"metadata"`
}

func (n *incidentIO) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{}
	header.Set("Authorization", "Bearer "+n.s.Token)
	_, err := n.s.postJSON(ctx, n.s.Address, incidentIOPayload(e), header)
	return err
}

// incidentIOTitleLimit keeps the title a title; the message is whole in
// the description.
const incidentIOTitleLimit = 255

func incidentIOPayload(e eventv1.Event) incidentIOEvent {
	status := "resolved"
	if e.Severity == eventv1.EventSeverityError {
		status = "firing"
	}
	metadata := map[string]string{
		"kind": e.InvolvedObject.Kind, "name": e.InvolvedObject.Name, "namespace": e.InvolvedObject.Namespace,
		"reason": e.Reason, "severity": e.Severity, "reportingController": e.ReportingController,
	}
	for k, v := range e.Metadata {
		if _, taken := metadata[k]; !taken {
			metadata[k] = v
		}
	}
	return incidentIOEvent{
		Title:            cutRunes(objectRef(e)+": "+e.Reason, incidentIOTitleLimit),
		Description:      eventMessage(e),
		DeduplicationKey: string(e.InvolvedObject.UID),
		Status:           status,
		Metadata:         metadata,
	}
}
