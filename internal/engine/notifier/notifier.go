// Package notifier sends an event to one provider: a chat, an incident
// system, an event stream or a Git host. Each Provider type of Flux's CRD
// is a small file that builds the payload the service documents and sends
// it, over net/http wherever the service speaks HTTP.
//
// It is plain Go: the caller (the notification controller) reads the
// Provider and its Secrets, builds Settings and an http.Client (timeout,
// proxy, TLS), and decides what to retry from the error (Retryable).
// Nothing here logs, and no error carries a token or an address read from
// a Secret.
package notifier

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// Notifier sends events to one provider.
type Notifier interface {
	// Post sends the event. An error that Retryable says is worth another
	// try is a transient failure of the service or the network.
	Post(ctx context.Context, event eventv1.Event) error
}

// Settings are a Provider's, resolved: spec fields overridden by its
// Secret's keys, as Flux does.
type Settings struct {
	// Type is the Provider's spec.type.
	Type string
	// Address is the URL to send to: a webhook, an API endpoint, or for
	// the Git types the repository's URL.
	Address string
	// AddressFromSecret is set when Address came from the Secret's
	// address key: it is then a credential (a Slack webhook), and errors
	// show only its scheme and host (Redact).
	AddressFromSecret bool
	// Channel and Username are spec.channel and spec.username.
	Channel, Username string
	// Token is the Secret's token; Password its password (with Username
	// from the Secret's username when it has one).
	Token, Password string
	// Headers are the Secret's headers key, a YAML map, for the types that
	// send them (generic, generic-hmac and the few that say so).
	Headers map[string]string
	// Secret is the whole Secret, for the keys only some types read (the
	// GitHub App's githubAppID, githubAppInstallationID,
	// githubAppPrivateKey, githubAppBaseURL); nil for none.
	Secret map[string][]byte
	// Client sends the HTTP requests, with the Provider's timeout, proxy
	// and TLS settings; nil is a client with a 15 s timeout.
	Client *http.Client

	// ProviderUID is the Provider's UID: the default commit-status key
	// ends with its first segment.
	ProviderUID string
	// CommitStatus, when set, returns the commit-status key of an event
	// (the Provider's commitStatusExpr); nil is the default key
	// (CommitStatusKey).
	CommitStatus func(eventv1.Event) (string, error)
}

// constructor builds the Notifier of one type, refusing settings it cannot
// work with (no address, a channel that is not one).
type constructor func(Settings) (Notifier, error)

// constructors are the types built so far, by family.
func constructors() map[string]constructor {
	all := map[string]constructor{}
	for _, family := range []map[string]constructor{chatNotifiers(), incidentNotifiers(), streamNotifiers(), gitNotifiers()} {
		for name, c := range family {
			all[name] = c
		}
	}
	return all
}

// Types are the provider types New builds, sorted.
func Types() []string {
	var names []string
	for name := range constructors() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// New returns the Notifier of s.Type.
func New(s Settings) (Notifier, error) {
	c, ok := constructors()[s.Type]
	if !ok {
		return nil, fmt.Errorf("provider type %q is not supported yet (supported: %s)", s.Type, strings.Join(Types(), ", "))
	}
	if s.Client == nil {
		s.Client = &http.Client{Timeout: DefaultTimeout}
	}
	return c(s)
}
