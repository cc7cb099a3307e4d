package notifier

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// incidentNotifiers are the incident and monitoring types: alertmanager,
// pagerduty, opsgenie, incident.io, datadog, grafana, sentry.
func incidentNotifiers() map[string]constructor {
	return map[string]constructor{
		"alertmanager": newAlertmanager,
		"pagerduty":    newPagerDuty,
		"opsgenie":     newOpsgenie,
		"incident.io":  newIncidentIO,
		"datadog":      newDatadog,
		"grafana":      newGrafana,
		"sentry":       newSentry,
	}
}

// httpAddress checks that the Provider's address is set and is an http or
// https URL with a host, naming where the address comes from when it is
// not. The address itself is never quoted: it may come from a Secret.
func httpAddress(s Settings) (*url.URL, error) {
	if strings.TrimSpace(s.Address) == "" {
		return nil, fmt.Errorf("%s provider: no address: set spec.address or the address key of the Secret in spec.secretRef", s.Type)
	}
	u, err := url.Parse(s.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s provider: the address %s is not an http or https URL with a host", s.Type, addressSource(s))
	}
	return u, nil
}

// addressSource names where an address came from, for errors.
func addressSource(s Settings) string {
	if s.AddressFromSecret {
		return "from the Secret's address key"
	}
	return "in spec.address"
}

// requireToken refuses settings without the Secret's token key.
func requireToken(s Settings, what string) error {
	if s.Token == "" {
		return fmt.Errorf("%s provider: no %s: set the token key of the Secret in spec.secretRef", s.Type, what)
	}
	return nil
}

// objectRef is the involved object as Flux's messages show it:
// Kind/name.namespace.
func objectRef(e eventv1.Event) string {
	return fmt.Sprintf("%s/%s.%s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.InvolvedObject.Namespace)
}

// sortedKeys returns the keys of m in order, so payloads are stable.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// cutRunes shortens s to at most n characters, for the services whose
// limits count characters, ending with … when it cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// eventMessage is the event's message cut to what an event may carry, for
// the services that document no limit of their own.
func eventMessage(e eventv1.Event) string {
	return cutRunes(e.Message, eventv1.MaxMessageLength)
}

// serviceURL replaces the path of base with path, keeping scheme, host
// and credentials: the services whose address is a host and whose API
// paths are fixed (PagerDuty, Datadog).
func serviceURL(base *url.URL, path string) string {
	u := *base
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path, "", "", ""
	return u.String()
}

// basicAuth is the Authorization header value of HTTP basic auth.
func basicAuth(username, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
}

// isOwnKey tells whether k, in any case, is a key the tag-based types
// (datadog, grafana) set from the event itself: metadata under such a key
// is left out, so a tenant's eventMetadata cannot pose as another
// namespace or kind.
func isOwnKey(k string) bool {
	switch strings.ToLower(strings.TrimSpace(k)) {
	case "kind", "name", "namespace", "reason", "reportingcontroller", "severity":
		return true
	}
	return false
}
