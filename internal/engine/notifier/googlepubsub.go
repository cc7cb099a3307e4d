package notifier

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// pubsubEndpoint is Pub/Sub's global REST endpoint.
const pubsubEndpoint = "https://pubsub.googleapis.com"

// pubsubScope is the OAuth2 scope a publish needs.
const pubsubScope = "https://www.googleapis.com/auth/pubsub"

// Pub/Sub's limits on a message's attributes.
const (
	maxAttributes     = 100
	maxAttributeKey   = 256
	maxAttributeValue = 1024
)

var (
	// projectID is a project ID, optionally domain-scoped (example.com:proj).
	projectID = regexp.MustCompile(`^([a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	// topicID is Pub/Sub's rule for a topic ID.
	topicID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)
	// pathPrefix is what an endpoint's path may hold before /v1.
	pathPrefix = regexp.MustCompile(`^[A-Za-z0-9/_.-]*$`)
)

// pubsubNotifier publishes the Event JSON on a Pub/Sub topic through the
// REST publish call, as Flux's googlepubsub type does: spec.address is the
// project ID, spec.channel the topic ID, the Secret's token the JSON key
// of a service account and its headers the message's attributes.
type pubsubNotifier struct {
	settings   Settings
	publishURL string
	attributes map[string]string
	tokens     *googleTokens
}

// newGooglePubSub checks the project, topic, attributes and key. The
// address may also be the URL of the project on another Pub/Sub endpoint
// (https://<host>/v1/projects/<project>: a regional or Private Service
// Connect endpoint); without an address, the key's project_id is used.
func newGooglePubSub(s Settings) (Notifier, error) {
	if s.Token == "" {
		return nil, errors.New("googlepubsub: the Secret has no token: set its token key to the JSON key of a service account allowed to publish (workload identity is not supported yet)")
	}
	tokens, key, err := newGoogleTokens(s, []byte(s.Token), pubsubScope)
	if err != nil {
		return nil, fmt.Errorf("googlepubsub: %w", err)
	}
	endpoint, project, err := pubsubProject(s, key.ProjectID)
	if err != nil {
		return nil, err
	}
	if !topicID.MatchString(s.Channel) || strings.HasPrefix(strings.ToLower(s.Channel), "goog") {
		return nil, fmt.Errorf("googlepubsub: channel %q is not a Pub/Sub topic ID: set spec.channel to the topic's ID (3 to 255 letters, digits and - _ . ~ + %%, starting with a letter, not with goog)", s.Channel)
	}
	attributes, err := pubsubAttributes(s.Headers)
	if err != nil {
		return nil, err
	}
	return &pubsubNotifier{
		settings:   s,
		publishURL: endpoint + "/v1/projects/" + project + "/topics/" + s.Channel + ":publish",
		attributes: attributes,
		tokens:     tokens,
	}, nil
}

// pubsubProject returns the endpoint and project of the address.
func pubsubProject(s Settings, keyProject string) (endpoint, project string, err error) {
	address := strings.TrimSpace(s.Address)
	switch {
	case address == "":
		endpoint, project = pubsubEndpoint, keyProject
	case strings.Contains(address, "://"):
		if err := checkHTTPS(address); err != nil {
			return "", "", fmt.Errorf("googlepubsub: address %s: %w", s.Redact(address), err)
		}
		u, _ := url.Parse(address)
		prefix, found := strings.CutSuffix(strings.TrimSuffix(u.Path, "/"), "/v1/projects/"+pathBase(u.Path))
		if !found || u.RawQuery != "" || u.Fragment != "" || !pathPrefix.MatchString(prefix) {
			return "", "", fmt.Errorf("googlepubsub: address %s is not a project's URL: use the project ID, or https://<host>/v1/projects/<project>", s.Redact(address))
		}
		endpoint, project = u.Scheme+"://"+u.Host+prefix, pathBase(u.Path)
	default:
		endpoint, project = pubsubEndpoint, address
	}
	if !projectID.MatchString(project) {
		shown := strconv.Quote(project)
		if s.AddressFromSecret {
			shown = "the Secret's address"
		}
		return "", "", fmt.Errorf("googlepubsub: %s is not a GCP project ID: set spec.address to the ID of the topic's project", shown)
	}
	return endpoint, project, nil
}

// pathBase is the last segment of a URL path.
func pathBase(path string) string {
	path = strings.TrimSuffix(path, "/")
	return path[strings.LastIndex(path, "/")+1:]
}

// pubsubAttributes checks the Secret's headers against Pub/Sub's rules
// for attributes, naming the key (never the value) that breaks one.
func pubsubAttributes(headers map[string]string) (map[string]string, error) {
	if len(headers) > maxAttributes {
		return nil, fmt.Errorf("googlepubsub: the Secret's headers have %d entries, over the %d attributes a message may have", len(headers), maxAttributes)
	}
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "" || len(k) > maxAttributeKey:
			return nil, fmt.Errorf("googlepubsub: the Secret's headers have a key of %d bytes: an attribute key has 1 to %d", len(k), maxAttributeKey)
		case strings.HasPrefix(strings.ToLower(k), "goog"):
			return nil, fmt.Errorf("googlepubsub: the Secret's header %q starts with goog, which Pub/Sub reserves", k)
		case len(headers[k]) > maxAttributeValue:
			return nil, fmt.Errorf("googlepubsub: the value of the Secret's header %q is %d bytes, over the %d of an attribute", k, len(headers[k]), maxAttributeValue)
		}
	}
	if len(headers) == 0 {
		return nil, nil
	}
	return headers, nil
}

// pubsubMessage is one message of a publish request.
type pubsubMessage struct {
	Data       string            `json:"data"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Post publishes the event as the data of one message.
func (n *pubsubNotifier) Post(ctx context.Context, event eventv1.Event) error {
	data, err := json.Marshal(event)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("googlepubsub: encode the event: %w", err)}
	}
	token, err := n.tokens.accessToken(ctx)
	if err != nil {
		return fmt.Errorf("googlepubsub: %w", err)
	}
	payload := map[string][]pubsubMessage{"messages": {{Data: base64.StdEncoding.EncodeToString(data), Attributes: n.attributes}}}
	answer, err := n.settings.postJSON(ctx, n.publishURL, payload, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		var status *StatusError
		if errors.As(err, &status) {
			status.Body = hideToken(status.Body, token)
			if status.Code == http.StatusUnauthorized {
				n.tokens.forget(token)
			}
		}
		return fmt.Errorf("googlepubsub: publish: %w", err)
	}
	var published struct {
		MessageIDs []string `json:"messageIds"`
	}
	if json.Unmarshal(answer, &published) != nil || len(published.MessageIDs) != 1 {
		// Not retried: the message may have been published all the same.
		return &PermanentError{Err: fmt.Errorf("googlepubsub: %s answered without the message's ID: check the address is a Pub/Sub endpoint", n.settings.Redact(n.publishURL))}
	}
	return nil
}
