package notifier

import (
	"context"
	"net/http"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Datadog's documented limits: an event's text is at most 4000
// characters, a tag 200, an aggregation key 100.
const (
	datadogTextLimit = 4000
	datadogTagLimit  = 200
	datadogAggLimit  = 100
)

// datadog posts an event to Datadog's Events API v1 at the address's
// site (https://api.datadoghq.com) with the API key in DD-API-KEY.
type datadog struct {
	s        Settings
	endpoint string
}

func newDatadog(s Settings) (Notifier, error) {
	base, err := httpAddress(s)
	if err != nil {
		return nil, err
	}
	if err := requireToken(s, "API key"); err != nil {
		return nil, err
	}
	endpoint := s.Address
	if !strings.HasSuffix(strings.TrimSuffix(base.Path, "/"), "/api/v1/events") {
		endpoint = serviceURL(base, strings.TrimSuffix(base.Path, "/")+"/api/v1/events")
	}
	return &datadog{s: s, endpoint: endpoint}, nil
}

// datadogEvent is a v1 event.
type datadogEvent struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	Tags           []string `json:"tags"`
	AlertType      string   `json:"alert_type"`
	SourceTypeName string   `json:"source_type_name"`
	AggregationKey string   `json:"aggregation_key"`
	DateHappened   int64    `json:"date_happened,omitempty"`
}

func (n *datadog) Post(ctx context.Context, e eventv1.Event) error {
	header := http.Header{}
	header.Set("DD-API-KEY", n.s.Token)
	_, err := n.s.postJSON(ctx, n.endpoint, datadogPayload(e), header)
	return err
}

func datadogPayload(e eventv1.Event) datadogEvent {
	alertType := "info"
	if e.Severity == eventv1.EventSeverityError {
		alertType = "error"
	}
	tags := []string{
		"flux",
		datadogTag("kind", e.InvolvedObject.Kind),
		datadogTag("name", e.InvolvedObject.Name),
		datadogTag("namespace", e.InvolvedObject.Namespace),
		datadogTag("reason", e.Reason),
		datadogTag("reportingcontroller", e.ReportingController),
	}
	for _, k := range sortedKeys(e.Metadata) {
		if isOwnKey(k) {
			continue
		}
		tags = append(tags, datadogTag(k, e.Metadata[k]))
	}
	ev := datadogEvent{
		Title:          objectRef(e) + ": " + e.Reason,
		Text:           cutRunes(e.Message, datadogTextLimit),
		Tags:           tags,
		AlertType:      alertType,
		SourceTypeName: "fluxcd",
		AggregationKey: cutRunes(objectRef(e), datadogAggLimit),
	}
	if !e.Timestamp.IsZero() {
		ev.DateHappened = e.Timestamp.Unix()
	}
	return ev
}

// datadogTag is key:value cut to a tag's length, without the newlines
// and commas that would split it.
func datadogTag(key, value string) string {
	tag := strings.NewReplacer("\n", " ", "\r", " ", ",", " ").Replace(key + ":" + value)
	return cutRunes(tag, datadogTagLimit)
}
