package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// eventHubsDomain completes a namespace name into its host.
const eventHubsDomain = ".servicebus.windows.net"

// sasLifetime is how long a SAS token computed for one send stays valid.
const sasLifetime = time.Hour

var (
	// eventHubNamespace is Azure's rule for a namespace name.
	eventHubNamespace = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$`)
	// eventHubName is Azure's rule for an event hub's name.
	eventHubName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$`)
	// hostPort is a DNS name or an IP, with an optional port.
	hostPort = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
)

// eventHubNotifier sends the Event JSON to an Azure event hub through the
// Event Hubs REST send call, authenticated as Flux documents:
//   - SAS: the Secret's address is a connection string
//     (Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=…;
//     SharedAccessKey=…;EntityPath=<hub>), from which each send signs a
//     SAS token valid one hour; a SharedAccessSignature in the string is
//     used as given;
//   - JWT: the Secret's token is an Azure AD token (sent as Bearer, or as
//     is when it is a SharedAccessSignature), spec.channel the namespace
//     and spec.address the event hub's name.
type eventHubNotifier struct {
	settings Settings
	// host is the namespace's host, hub the event hub.
	host, hub string
	// keyName and key sign SAS tokens; token is a given credential.
	keyName, key, token string
	now                 func() time.Time
}

// newAzureEventHub reads the connection string or the token mode's fields.
func newAzureEventHub(s Settings) (Notifier, error) {
	n := &eventHubNotifier{settings: s, now: time.Now}
	if strings.Contains(strings.ToLower(s.Address), "endpoint=") {
		if err := n.parseConnectionString(s.Address); err != nil {
			return nil, err
		}
	} else {
		if s.Token == "" {
			return nil, errors.New("azureeventhub: no credentials: set the Secret's address to the event hub's connection string (SAS), or its token to an Azure AD token with spec.channel the namespace and spec.address the event hub")
		}
		n.token = s.Token
		host, err := eventHubHost(s.Channel)
		if err != nil {
			return nil, err
		}
		n.host, n.hub = host, s.Address
	}
	if !eventHubName.MatchString(n.hub) {
		return nil, fmt.Errorf("azureeventhub: %q is not an event hub name (letters, digits, . _ -, starting and ending with a letter or digit): set spec.address, or EntityPath in the connection string", trim(n.hub, 64))
	}
	return n, nil
}

// eventHubHost accepts a namespace name or, for the other Azure clouds,
// the namespace's host (with a port, for a gateway).
func eventHubHost(channel string) (string, error) {
	switch {
	case eventHubNamespace.MatchString(channel):
		return channel + eventHubsDomain, nil
	case strings.Contains(channel, ".") && hostPort.MatchString(channel):
		return channel, nil
	}
	return "", fmt.Errorf("azureeventhub: channel %q is not an Event Hubs namespace: set spec.channel to the namespace's name (or its host)", trim(channel, 64))
}

// parseConnectionString reads Endpoint, SharedAccessKeyName,
// SharedAccessKey, SharedAccessSignature and EntityPath. Errors name the
// key that is wrong, never a value of the string (a credential).
func (n *eventHubNotifier) parseConnectionString(cs string) error {
	fields := map[string]string{}
	for _, part := range strings.Split(cs, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return errors.New("azureeventhub: the connection string in the Secret's address has a part that is not Key=Value")
		}
		fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	u, err := url.Parse(fields["endpoint"])
	if err != nil || u.Scheme != "sb" || !hostPort.MatchString(u.Host) || u.User != nil {
		return errors.New("azureeventhub: the Endpoint of the connection string in the Secret's address is not sb://<namespace>.servicebus.windows.net/")
	}
	n.host, n.hub = u.Host, fields["entitypath"]
	if n.hub == "" {
		return errors.New("azureeventhub: the connection string in the Secret's address has no EntityPath: append ;EntityPath=<event hub name> (or copy the event hub's own connection string)")
	}
	if sas := fields["sharedaccesssignature"]; sas != "" {
		n.token = sas
		return nil
	}
	n.keyName, n.key = fields["sharedaccesskeyname"], fields["sharedaccesskey"]
	if n.keyName == "" || n.key == "" {
		return errors.New("azureeventhub: the connection string in the Secret's address needs SharedAccessKeyName and SharedAccessKey (or SharedAccessSignature)")
	}
	return nil
}

// resource is the event hub's URI, which a SAS token is scoped to.
func (n *eventHubNotifier) resource() string {
	return "https://" + n.host + "/" + n.hub
}

// authorization is the Authorization header of one send.
func (n *eventHubNotifier) authorization() string {
	switch {
	case n.token != "" && strings.HasPrefix(n.token, "SharedAccessSignature "):
		return n.token
	case n.token != "":
		return "Bearer " + n.token
	}
	return sasToken(n.resource(), n.keyName, n.key, n.now().Add(sasLifetime))
}

// sasToken signs "<url-encoded resource>\n<expiry>" with the key (HMAC
// SHA-256 keyed with the key's text), as Azure's shared access signature
// scheme says.
func sasToken(resource, keyName, key string, expiry time.Time) string {
	encoded := url.QueryEscape(resource)
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(encoded + "\n" + se))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return "SharedAccessSignature sr=" + encoded + "&sig=" + url.QueryEscape(sig) + "&se=" + se + "&skn=" + url.QueryEscape(keyName)
}

// Post sends the event as one event hub message.
func (n *eventHubNotifier) Post(ctx context.Context, event eventv1.Event) error {
	body, err := json.Marshal(event)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("azureeventhub: encode the event: %w", err)}
	}
	address := n.resource() + "/messages?timeout=60&api-version=2014-01"
	header := http.Header{
		"Authorization": {n.authorization()},
		"Content-Type":  {"application/atom+xml;type=entry;charset=utf-8"},
	}
	settings := n.settings
	// The connection string is a credential: errors show the host only.
	settings.AddressFromSecret = true
	settings.Address = address
	if _, err := settings.do(ctx, request{method: http.MethodPost, url: address, body: body, header: header}); err != nil {
		return fmt.Errorf("azureeventhub: send to event hub %q: %w", n.hub, n.hide(err))
	}
	return nil
}

// hide removes the key and the token from a service's answer quoted in
// an error.
func (n *eventHubNotifier) hide(err error) error {
	var status *StatusError
	if errors.As(err, &status) {
		for _, secret := range []string{n.key, n.token} {
			status.Body = hideToken(status.Body, secret)
		}
	}
	return err
}
