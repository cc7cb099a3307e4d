package notifier

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// natsSchemes are the URL schemes nats.go connects with.
var natsSchemes = map[string]bool{"nats": true, "tls": true, "ws": true, "wss": true}

// maxSubject bounds a NATS subject (the server refuses longer control lines).
const maxSubject = 1024

// natsNotifier publishes the Event JSON on a NATS subject, as Flux's nats
// type does: spec.address is the server URL (or a comma-separated list of
// them), spec.channel the subject. Each Post connects, publishes, flushes
// (the server has the message then) and closes: events are rare, and a
// fresh connection never carries the failure of the last one.
type natsNotifier struct {
	settings Settings
	servers  string
	subject  string
	timeout  time.Duration
	options  []nats.Option
}

// newNATS checks the address and subject and builds the connection
// options: the Secret's username and password (Flux's documented
// credentials), else its token; credentials in the address URL (an address
// read from the Secret) work as nats.go reads them.
func newNATS(s Settings) (Notifier, error) {
	if s.Address == "" {
		return nil, errors.New("nats: address is empty: set spec.address (or the Secret's address) to the NATS server URL, e.g. nats://nats.messaging:4222")
	}
	servers, err := natsServers(s)
	if err != nil {
		return nil, err
	}
	if err := checkSubject(s.Channel); err != nil {
		return nil, err
	}
	n := &natsNotifier{settings: s, servers: servers, subject: s.Channel, timeout: DefaultTimeout}
	if s.Client != nil && s.Client.Timeout > 0 {
		n.timeout = s.Client.Timeout
	}
	n.options = []nats.Option{
		nats.Name("driftless notification-controller"),
		nats.Timeout(n.timeout),
		nats.NoReconnect(),
		nats.NoCallbacksAfterClientClose(),
	}
	switch {
	case s.Password != "":
		if s.Username == "" {
			return nil, errors.New("nats: the Secret has a password but no username: add the username key (or set spec.username)")
		}
		n.options = append(n.options, nats.UserInfo(s.Username, s.Password))
	case s.Token != "":
		n.options = append(n.options, nats.Token(s.Token))
	}
	if cfg := natsTLS(s.Client, servers); cfg != nil {
		n.options = append(n.options, nats.Secure(cfg))
	}
	return n, nil
}

// natsServers checks each comma-separated server URL: a scheme nats.go
// speaks (nats:// when none is given) and a host.
func natsServers(s Settings) (string, error) {
	var out []string
	for _, server := range strings.Split(s.Address, ",") {
		server = strings.TrimSpace(server)
		if !strings.Contains(server, "://") {
			server = "nats://" + server
		}
		u, err := url.Parse(server)
		if err != nil || u.Host == "" || !natsSchemes[u.Scheme] {
			return "", fmt.Errorf("nats: address %s is not a NATS server URL: use nats://<host>:<port> (or tls://, ws://, wss://)", s.Redact(server))
		}
		out = append(out, server)
	}
	return strings.Join(out, ","), nil
}

// checkSubject refuses what is not a subject one can publish on: empty,
// too long, white space or control characters, empty tokens, wildcards.
func checkSubject(subject string) error {
	if subject == "" {
		return errors.New("nats: channel is empty: set spec.channel to the subject to publish on")
	}
	if len(subject) > maxSubject {
		return fmt.Errorf("nats: channel is %d bytes long, over the %d a subject may have", len(subject), maxSubject)
	}
	for _, r := range subject {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("nats: channel %q holds white space or a control character, which a subject cannot", subject)
		}
	}
	for _, token := range strings.Split(subject, ".") {
		switch token {
		case "":
			return fmt.Errorf("nats: channel %q has an empty token (a leading, trailing or double dot)", subject)
		case "*", ">":
			return fmt.Errorf("nats: channel %q holds the wildcard %q: publish on a concrete subject", subject, token)
		}
	}
	return nil
}

// natsTLS returns the TLS settings of the Provider's client (its
// certSecretRef) when the servers use TLS or a CA or client certificate
// was given; nil otherwise, so that a plain nats:// server still works.
func natsTLS(client *http.Client, servers string) *tls.Config {
	var cfg *tls.Config
	if client != nil {
		if t, ok := client.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig
		}
	}
	secure := strings.Contains(servers, "tls://") || strings.Contains(servers, "wss://")
	if cfg == nil || (!secure && cfg.RootCAs == nil && len(cfg.Certificates) == 0) {
		return nil
	}
	return cfg.Clone()
}

// Post publishes the event on the subject and waits for the server to
// have it.
func (n *natsNotifier) Post(ctx context.Context, event eventv1.Event) error {
	body, err := json.Marshal(event)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("nats: encode the event: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	options := append(append([]nats.Option(nil), n.options...), nats.SetCustomDialer(ctxDialer{ctx: ctx}))
	conn, err := nats.Connect(n.servers, options...)
	if err != nil {
		return n.fail("connect to", err)
	}
	defer conn.Close()
	if err := conn.Publish(n.subject, body); err != nil {
		return n.fail("publish on", err)
	}
	if err := conn.FlushWithContext(ctx); err != nil {
		return n.fail("flush to", err)
	}
	// A refused publish (no permission on the subject) comes back as an
	// asynchronous error before the flush's answer.
	if err := conn.LastError(); err != nil {
		return n.fail("publish on", err)
	}
	return nil
}

// fail describes a failure with the redacted address, no credential, and
// marks what another try cannot mend: refused credentials or permissions.
func (n *natsNotifier) fail(what string, err error) error {
	msg := fmt.Errorf("nats: %s %s (subject %q): %s", what, n.redactedServers(), n.subject, n.settings.scrub(err.Error()))
	for _, permanent := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired, nats.ErrPermissionViolation, nats.ErrMaxPayload, nats.ErrBadSubject} {
		if errors.Is(err, permanent) {
			return &PermanentError{Err: fmt.Errorf("%w: check the Provider's credentials and the user's permission to publish on the subject", msg)}
		}
	}
	return msg
}

// redactedServers is the server list as errors may show it.
func (n *natsNotifier) redactedServers() string {
	servers := strings.Split(n.servers, ",")
	for i, server := range servers {
		servers[i] = n.settings.Redact(server)
	}
	return strings.Join(servers, ",")
}

// ctxDialer dials within the Post's context, so a server that does not
// answer costs no more than the Provider's timeout.
type ctxDialer struct{ ctx context.Context }

func (d ctxDialer) Dial(network, address string) (net.Conn, error) {
	var dialer net.Dialer
	return dialer.DialContext(d.ctx, network, address)
}
