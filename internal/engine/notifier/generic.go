package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// generic POSTs the Event JSON itself to a webhook, with the header
// Gotk-Component naming the reporting controller and the Secret's
// headers. generic-hmac also signs the body: X-Signature is
// sha256=<hex HMAC-SHA256 of the body keyed with the token>, what a
// generic-hmac Receiver checks.
type generic struct {
	s   Settings
	url string
	// key signs the body when set (generic-hmac).
	key []byte
}

func newGeneric(s Settings) (Notifier, error) { return buildGeneric(s, "generic", false) }

func newGenericHMAC(s Settings) (Notifier, error) { return buildGeneric(s, "generic-hmac", true) }

func buildGeneric(s Settings, typ string, sign bool) (Notifier, error) {
	u, err := s.address(typ, "")
	if err != nil {
		return nil, err
	}
	for name, value := range s.Headers {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%s provider: the header %q of the Secret's \"headers\" key is not a valid header name", typ, name)
		}
		if headerValue(value) != value {
			return nil, fmt.Errorf("%s provider: the value of the header %q of the Secret's \"headers\" key has a line break or a control character", typ, name)
		}
	}
	g := &generic{s: s, url: u.String()}
	if sign {
		if s.Token == "" {
			return nil, fmt.Errorf("generic-hmac provider: the key \"token\" of the Secret spec.secretRef names is missing: set it to the HMAC key the receiver checks")
		}
		g.key = []byte(s.Token)
	}
	return g, nil
}

func (n *generic) format(e eventv1.Event) ([]byte, error) { return json.Marshal(e) }

// Post sends the event. The Secret's headers come first, so none of them
// replaces Content-Type, Gotk-Component or X-Signature.
func (n *generic) Post(ctx context.Context, e eventv1.Event) error {
	body, err := n.format(e)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("%s: encode the event: %w", n.s.Type, err)}
	}
	header := http.Header{}
	for name, value := range n.s.Headers {
		header.Set(name, value)
	}
	header.Set("Content-Type", "application/json")
	header.Set("Gotk-Component", headerValue(e.ReportingController))
	if n.key != nil {
		header.Set("X-Signature", "sha256="+sign(n.key, body))
	}
	_, err = n.s.do(ctx, request{method: http.MethodPost, url: n.url, body: body, header: header})
	return err
}

// sign is the hex HMAC-SHA256 of body keyed with key.
func sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// validHeaderName tells whether name is an HTTP header name: a token of
// RFC 9110.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > unicode.MaxASCII || !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// headerValue is s without the control characters (a line break above
// all) that would end a header or let a value inject another.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && (r < 0x20 || r == 0x7f) {
			return -1
		}
		return r
	}, s)
}
