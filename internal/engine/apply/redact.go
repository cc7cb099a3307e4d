package apply

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Redacted replaces a Secret value in a message.
const Redacted = "***"

// Thresholds of the redaction of Secret values in messages.
//
// A value shorter than minRedactLen bytes is left alone: "*"-ing every
// "a" or "on" of a message would make it unreadable, and would tell the
// reader the value anyway, by where the stars are; one to three bytes are
// no secret worth the name. A value shorter than anywhereRedactLen is
// redacted where it stands as a token of its own (between quotes,
// punctuation or spaces; not inside a longer word, name or number), so
// that a value such as "admin" does not eat the middle of
// "administrator". Longer values are redacted wherever they occur.
const (
	minRedactLen      = 4
	anywhereRedactLen = 8
)

// RedactSecrets replaces, in message, the values of every Secret among
// objs (core group, any version) with Redacted: each value of data as
// sent (base64) and decoded, each value of stringData as is and in
// base64, in the escaped forms a message quotes them in (Go %q, JSON),
// and each line of a value of several lines. Objects of other kinds are
// ignored. See minRedactLen for the values left alone.
func RedactSecrets(message string, objs ...*unstructured.Unstructured) string {
	return redact(message, secretValues(objs...))
}

// isSecret tells whether obj is a core Secret.
func isSecret(obj *unstructured.Unstructured) bool {
	if obj == nil {
		return false
	}
	gvk := obj.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

// secretValues returns the strings that reveal a value of the Secrets
// among objs, longest first; nil when there are none.
func secretValues(objs ...*unstructured.Unstructured) []string {
	set := map[string]bool{}
	add := func(s string) {
		for _, form := range forms(s) {
			if len(form) >= minRedactLen {
				set[form] = true
			}
		}
	}
	for _, obj := range objs {
		if !isSecret(obj) {
			continue
		}
		data, _ := obj.Object["data"].(map[string]any)
		for _, v := range data {
			s, ok := v.(string)
			if !ok {
				scalars(v, add) // not valid, but the API server quotes it back
				continue
			}
			add(s)
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				add(string(b))
			}
		}
		stringData, _ := obj.Object["stringData"].(map[string]any)
		for _, v := range stringData {
			s, ok := v.(string)
			if !ok {
				scalars(v, add)
				continue
			}
			add(s)
			add(base64.StdEncoding.EncodeToString([]byte(s)))
		}
	}
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// forms returns s as it may appear in a message: as is, escaped as Go's
// %q and JSON write it, and, for a value of several lines, each line.
func forms(s string) []string {
	out := []string{s, unquote(strconv.Quote(s))}
	if j, err := json.Marshal(s); err == nil {
		out = append(out, unquote(string(j)))
	}
	if strings.ContainsAny(s, "\r\n") {
		for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func unquote(quoted string) string {
	return strings.TrimSuffix(strings.TrimPrefix(quoted, `"`), `"`)
}

// scalars calls add with the text of every number and string in v, and of
// every key of its maps: a value of the wrong type (a number, a map)
// comes back in the API server's error printed with %v. Booleans and
// nulls are left out: they hold no secret and would mangle the words
// true and false.
func scalars(v any, add func(string)) {
	switch t := v.(type) {
	case string:
		add(t)
	case int64, int32, int, uint64, json.Number:
		add(fmt.Sprint(t))
	case float64:
		add(fmt.Sprint(t))
		add(strconv.FormatFloat(t, 'f', -1, 64))
	case map[string]any:
		for k, e := range t {
			add(k)
			scalars(e, add)
		}
	case []any:
		for _, e := range t {
			scalars(e, add)
		}
	}
}

// redact replaces every occurrence of values in message with Redacted;
// occurrences that overlap or touch become one. values are matched on the
// message as given, so a longer value is never half replaced by a shorter
// one it contains.
func redact(message string, values []string) string {
	if len(values) == 0 || message == "" {
		return message
	}
	hidden := make([]bool, len(message))
	found := false
	for _, v := range values {
		for from := 0; from < len(message); {
			i := strings.Index(message[from:], v)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(v)
			if len(v) >= anywhereRedactLen || standsAlone(message, start, end) {
				for k := start; k < end; k++ {
					hidden[k] = true
				}
				found = true
			}
			from = start + 1
		}
	}
	if !found {
		return message
	}
	var b strings.Builder
	for i := 0; i < len(message); {
		if !hidden[i] {
			b.WriteByte(message[i])
			i++
			continue
		}
		b.WriteString(Redacted)
		for i < len(message) && hidden[i] {
			i++
		}
	}
	return b.String()
}

// standsAlone tells whether message[start:end] is not part of a longer
// word, name or number: the bytes around it are no letters or digits, nor
// a '.', '-' or '_' that joins it to one ("admin-creds", "v1.admin").
func standsAlone(message string, start, end int) bool {
	if start > 0 && (word(message[start-1]) || joiner(message[start-1]) && start > 1 && word(message[start-2])) {
		return false
	}
	if end < len(message) && (word(message[end]) || joiner(message[end]) && end+1 < len(message) && word(message[end+1])) {
		return false
	}
	return true
}

func word(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func joiner(c byte) bool { return c == '.' || c == '-' || c == '_' }
