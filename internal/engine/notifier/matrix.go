package notifier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// matrixMaxText bounds the message: a Matrix event is at most 65,536
// bytes, JSON and signatures included.
const matrixMaxText = 48000

// matrix sends an m.room.message to a room (spec.channel, a room ID such
// as !abc:example.org) of the homeserver at the address, with the
// account's access token. The transaction ID is a digest of the event, so
// a retried send is not shown twice.
type matrix struct {
	s    Settings
	base string
	room string
}

func newMatrix(s Settings) (Notifier, error) {
	u, err := s.address("matrix", "")
	if err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, fmt.Errorf("matrix provider: the key \"token\" of the Secret spec.secretRef names is missing: set it to the account's access token")
	}
	if err := checkChannel("matrix", s.Channel, 255); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(s.Channel, "!") || !strings.Contains(s.Channel, ":") {
		return nil, fmt.Errorf("matrix provider: spec.channel %q is not a room ID: set it to the room's ID (!opaque:server), not its alias", s.Channel)
	}
	u.RawQuery, u.Fragment = "", ""
	return &matrix{s: s, base: strings.TrimSuffix(u.String(), "/"), room: s.Channel}, nil
}

func (n *matrix) format(e eventv1.Event) ([]byte, error) {
	mark := "✅"
	if isError(e) {
		mark = "❌"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", mark, title(e))
	if title(e) != objectName(e) {
		b.WriteString(objectName(e) + "\n")
	}
	b.WriteString(message(e, matrixMaxText))
	for _, f := range fields(e) {
		fmt.Fprintf(&b, "\n%s: %s", f.Key, f.Value)
	}
	// An empty m.mentions says the message mentions no one: a client
	// then does not notify a room for an @room in the text.
	return json.Marshal(map[string]any{"msgtype": "m.text", "body": b.String(), "m.mentions": map[string]any{}})
}

// txnID is the transaction ID of an event: its digest.
func txnID(e eventv1.Event) string {
	data, _ := json.Marshal(e)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Post PUTs the message under the event's transaction ID.
func (n *matrix) Post(ctx context.Context, e eventv1.Event) error {
	address := n.base + "/_matrix/client/r0/rooms/" + url.PathEscape(n.room) + "/send/m.room.message/" + txnID(e)
	_, err := send(ctx, n.s, n, e, http.MethodPut, address, http.Header{"Authorization": {"Bearer " + n.s.Token}})
	return err
}
