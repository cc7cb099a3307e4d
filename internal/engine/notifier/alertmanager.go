package notifier

import (
	"context"
	"net/http"
	"strings"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// alertmanager posts one firing alert to Prometheus Alertmanager's
// /api/v2/alerts (the address, as Flux documents it).
type alertmanager struct {
	s Settings
}

func newAlertmanager(s Settings) (Notifier, error) {
	if _, err := httpAddress(s); err != nil {
		return nil, err
	}
	return &alertmanager{s: s}, nil
}

// amAlert is a postable alert of Alertmanager's API v2.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
}

func (n *alertmanager) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{}
	switch {
	case n.s.Token != "":
		header.Set("Authorization", "Bearer "+n.s.Token)
	case n.s.Username != "" || n.s.Password != "":
		header.Set("Authorization", basicAuth(n.s.Username, n.s.Password))
	}
	// Basic auth in the address's userinfo is sent by net/http itself.
	_, err := n.s.postJSON(ctx, n.s.Address, []amAlert{alertmanagerAlert(e)}, header)
	return err
}

// alertmanagerAlert is the event as a firing alert: Flux's labels, then
// each metadata key as a label (its name sanitised, the summary an
// annotation instead), the message and summary as annotations.
func alertmanagerAlert(e eventv1.Event) amAlert {
	labels := map[string]string{
		"alertname":           "Flux" + e.InvolvedObject.Kind + e.Reason,
		"severity":            e.Severity,
		"reason":              e.Reason,
		"kind":                e.InvolvedObject.Kind,
		"name":                e.InvolvedObject.Name,
		"namespace":           e.InvolvedObject.Namespace,
		"reportingcontroller": e.ReportingController,
	}
	annotations := map[string]string{"message": eventMessage(e)}
	for _, k := range sortedKeys(e.Metadata) {
		if k == eventv1.MetaSummaryKey {
			annotations["summary"] = e.Metadata[k]
			continue
		}
		name := labelName(k)
		if _, taken := labels[name]; taken {
			// Flux's own labels win; of two keys that sanitise alike,
			// the first in order does.
			continue
		}
		labels[name] = e.Metadata[k]
	}
	start := e.Timestamp.UTC()
	if e.Timestamp.IsZero() {
		start = time.Now().UTC()
	}
	return amAlert{Labels: labels, Annotations: annotations, StartsAt: start}
}

// labelName makes s a Prometheus label name, [a-zA-Z_][a-zA-Z0-9_]*:
// every other character becomes _, and a leading digit gets a _ before
// it (kustomize.toolkit.fluxcd.io/revision becomes
// kustomize_toolkit_fluxcd_io_revision).
func labelName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}
