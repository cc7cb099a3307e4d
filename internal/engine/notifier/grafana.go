package notifier

import (
	"context"
	"net/http"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// grafana posts an annotation to Grafana's annotations API (the address,
// https://<grafana>/api/annotations), tagged so a dashboard query on the
// flux tag shows it; a token is a Bearer token, else username and
// password are basic auth.
type grafana struct {
	s Settings
}

func newGrafana(s Settings) (Notifier, error) {
	if _, err := httpAddress(s); err != nil {
		return nil, err
	}
	return &grafana{s: s}, nil
}

// grafanaAnnotation is the create-annotation request.
type grafanaAnnotation struct {
	Time int64    `json:"time,omitempty"`
	Text string   `json:"text"`
	Tags []string `json:"tags"`
}

func (n *grafana) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{}
	switch {
	case n.s.Token != "":
		header.Set("Authorization", "Bearer "+n.s.Token)
	case n.s.Username != "" || n.s.Password != "":
		header.Set("Authorization", basicAuth(n.s.Username, n.s.Password))
	}
	_, err := n.s.postJSON(ctx, n.s.Address, grafanaPayload(e), header)
	return err
}

// grafanaPayload tags the annotation as Flux does: flux, the reporting
// controller, "key: value" for each metadata key and kind, name and
// namespace of the object; the text is the message.
func grafanaPayload(e eventv1.Event) grafanaAnnotation {
	tags := []string{"flux", e.ReportingController}
	for _, k := range sortedKeys(e.Metadata) {
		if isOwnKey(k) {
			continue
		}
		tags = append(tags, k+": "+e.Metadata[k])
	}
	tags = append(tags,
		"kind: "+e.InvolvedObject.Kind,
		"name: "+e.InvolvedObject.Name,
		"namespace: "+e.InvolvedObject.Namespace,
		"severity: "+e.Severity,
	)
	a := grafanaAnnotation{Text: objectRef(e) + ": " + eventMessage(e), Tags: tags}
	if !e.Timestamp.IsZero() {
		a.Time = e.Timestamp.UnixMilli()
	}
	return a
}
