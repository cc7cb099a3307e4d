package notifier

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// chatNotifiers are the chat types: slack, discord, rocket, msteams,
// googlechat, webex, telegram, lark, zoom, matrix, zulip.
func chatNotifiers() map[string]constructor {
	return map[string]constructor{
		"slack":      newSlack,
		"discord":    newDiscord,
		"rocket":     newRocket,
		"msteams":    newMSTeams,
		"googlechat": newGoogleChat,
		"webex":      newWebex,
		"telegram":   newTelegram,
		"lark":       newLark,
		"zoom":       newZoom,
		"matrix":     newMatrix,
		"zulip":      newZulip,
	}
}

// formatter is a notifier that builds its request body apart from sending
// it, so the fuzz target can check every payload.
type formatter interface {
	format(e eventv1.Event) ([]byte, error)
}

// maxAddress is the longest address a Provider may set (its CRD's bound,
// also applied to an address read from a Secret).
const maxAddress = 2048

// maxFieldValue bounds each metadata value a chat message shows: the
// values come from the object's annotations, which a tenant writes.
const maxFieldValue = 1000

// address returns the URL a notifier of type typ sends to: s.Address, or
// fallback when it is empty (required is then false). It refuses what is
// not an absolute http(s) URL, naming the setting without printing an
// address read from a Secret.
func (s Settings) address(typ, fallback string) (*url.URL, error) {
	raw := strings.TrimSpace(s.Address)
	if raw == "" {
		if fallback == "" {
			return nil, fmt.Errorf("%s provider: the address is missing: set spec.address or the key \"address\" of the Secret spec.secretRef names", typ)
		}
		raw = fallback
	}
	if len(raw) > maxAddress {
		return nil, fmt.Errorf("%s provider: the address is %d bytes, over the limit of %d", typ, len(raw), maxAddress)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s provider: the address %s is not an http(s) URL: set an address such as https://host/path", typ, s.Redact(raw))
	}
	return u, nil
}

// objectName is how a chat shows the event's object: kind/name.namespace,
// the kind in lower case, as Flux does.
func objectName(e eventv1.Event) string {
	o := e.InvolvedObject
	return clean(fmt.Sprintf("%s/%s.%s", strings.ToLower(o.Kind), o.Name, o.Namespace))
}

// title is the heading of a chat message: the Alert's summary when the
// event has one, the object otherwise.
func title(e eventv1.Event) string {
	if s := strings.TrimSpace(e.Metadata[eventv1.MetaSummaryKey]); s != "" {
		return cut(clean(s), 255)
	}
	return objectName(e)
}

// isError tells whether the event is an error (the rest is info).
func isError(e eventv1.Event) bool { return e.Severity == eventv1.EventSeverityError }

// field is one metadata key and value of an event.
type field struct{ Key, Value string }

// fields are the event's metadata but the summary (shown as the title),
// sorted by key, each value bounded.
func fields(e eventv1.Event) []field {
	var out []field
	for k, v := range e.Metadata {
		if k == eventv1.MetaSummaryKey {
			continue
		}
		out = append(out, field{Key: cut(clean(k), 253), Value: cut(clean(v), maxFieldValue)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// message is the event's message, valid UTF-8, cut to n bytes.
func message(e eventv1.Event, n int) string { return cut(clean(e.Message), n) }

// clean makes s valid UTF-8 and drops control characters other than
// newlines and tabs, which no chat renders and some refuse.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// cut shortens s to at most n bytes, at a rune boundary, ending with an
// ellipsis when it cut (a byte bound is also a character bound).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	if n <= len(ellipsis) {
		return ""
	}
	end := n - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}

// checkChannel refuses a channel with spaces or control characters, or
// longer than n bytes, naming spec.channel.
func checkChannel(typ, channel string, n int) error {
	if len(channel) > n {
		return fmt.Errorf("%s provider: spec.channel is %d bytes, over the limit of %d", typ, len(channel), n)
	}
	if strings.IndexFunc(channel, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%s provider: spec.channel %q has a space or a control character", typ, channel)
	}
	return nil
}

// neutralizeMentions puts a zero-width space after each @ that starts a
// word, so a chat that expands @all or @here (Rocket.Chat) does not page
// a whole room because an event's message quotes one; an @ inside a word
// (main@sha1:…) is kept as it is.
func neutralizeMentions(text string) string {
	var b strings.Builder
	prev := ' '
	for _, r := range text {
		b.WriteRune(r)
		if r == '@' && !unicode.IsLetter(prev) && !unicode.IsDigit(prev) {
			b.WriteRune('\u200b')
		}
		prev = r
	}
	return b.String()
}

// escapeHTML replaces &, < and > with their entities: the escaping Slack,
// Google Chat and Webex document for text that must not turn into a
// mention (<!here>, <users/all>, <@all>) or a link.
func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// send formats the event with f and sends it to address with the method
// and headers (Content-Type application/json unless set), returning the
// body of a 2xx answer.
func send(ctx context.Context, s Settings, f formatter, e eventv1.Event, method, address string, header http.Header) ([]byte, error) {
	body, err := f.format(e)
	if err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("%s: encode the payload: %w", s.Type, err)}
	}
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	return s.do(ctx, request{method: method, url: address, body: body, header: header})
}
