package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// secretToken is the token the tests give the notifiers: no error may
// quote it.
const secretToken = "123456:s3cr3t-T0ken_value"

// build returns the notifier of s, failing the test when New refuses it.
func build(t *testing.T, s Settings) Notifier {
	t.Helper()
	n, err := New(s)
	if err != nil {
		t.Fatalf("New(%s): %v", s.Type, err)
	}
	return n
}

// post sends the event and fails the test on an error.
func post(t *testing.T, n Notifier, e eventv1.Event) {
	t.Helper()
	if err := n.Post(context.Background(), e); err != nil {
		t.Fatalf("Post: %v", err)
	}
}

// refused checks New refuses s with an error naming each of want, and
// quoting neither the token, nor the password, nor a Secret's address.
func refused(t *testing.T, s Settings, want ...string) {
	t.Helper()
	n, err := New(s)
	if err == nil {
		t.Fatalf("New(%s) with %+v built %T, want an error", s.Type, s, n)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("New(%s): error %q does not name %q", s.Type, err, w)
		}
	}
	noSecret(t, err, s)
}

// noSecret fails when err quotes a credential of s.
func noSecret(t *testing.T, err error, s Settings) {
	t.Helper()
	for _, secret := range []string{s.Token, s.Password} {
		if len(secret) >= 4 && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q quotes a secret", err)
		}
	}
	if s.AddressFromSecret && s.Address != "" && strings.Contains(err.Error(), s.Address) {
		t.Errorf("error %q quotes the Secret's address", err)
	}
}

// failsWithStatus checks a Post to a fake answering code fails with a
// StatusError of that code that quotes no secret.
func failsWithStatus(t *testing.T, s Settings, fake *fakeService, code int) {
	t.Helper()
	fake.answerWith(code, "refused "+s.Token)
	err := build(t, s).Post(context.Background(), testEvent("error"))
	var status *StatusError
	if !errors.As(err, &status) || status.Code != code {
		t.Fatalf("Post to a fake answering %d: %v, want a StatusError %d", code, err, code)
	}
	noSecret(t, err, s)
}

// badAddresses checks the constructor refuses a missing address (when
// the type has no default) and addresses that are not http(s) URLs,
// without quoting one read from a Secret.
func badAddresses(t *testing.T, s Settings, hasDefault bool) {
	t.Helper()
	if !hasDefault {
		missing := s
		missing.Address = ""
		refused(t, missing, "address", "spec.address")
	}
	for _, bad := range []string{"ftp://host/hook", "file:///etc/passwd", "javascript:alert(1)", "host-without-scheme/x", "https:///no-host", "https://" + strings.Repeat("a", maxAddress)} {
		b := s
		b.Address, b.AddressFromSecret = bad, true
		refused(t, b, "address")
	}
}

// hostile is an event whose message and metadata try to break a payload:
// quotes, Markdown, HTML, mentions, control characters and a message of
// 100 KB.
func hostile() eventv1.Event {
	e := testEvent("error")
	e.Message = "\"quoted\" `code` *bold* _it_ [link](https://evil.example) <!here> <!channel> <@U123> @here @all @**all** <users/all> <at id=all></at> @room \\ {} \x00\x1b\n" + strings.Repeat("x", 100<<10)
	e.Metadata = map[string]string{"note": "<!everyone> \"x\" \n*y*", "summary": "prod <!here>"}
	return e
}

// sent decodes the JSON body of the fake's only request.
func sent(t *testing.T, fake *fakeService) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(fake.only(t).Body, &v); err != nil {
		t.Fatalf("the body is not JSON: %v", err)
	}
	return v
}

// dig walks a decoded JSON value along keys (strings) and indexes (ints).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q", path, k)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("%v: no element %d", path, k)
			}
			v = a[k]
		}
	}
	return v
}

// str is dig for a string.
func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := dig(t, v, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string", path)
	}
	return s
}

// checkText checks a text a payload carries: valid UTF-8, within the
// service's limit, without control characters or the forbidden strings.
func checkText(t *testing.T, what, text string, limit int, forbidden ...string) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Errorf("%s is not valid UTF-8", what)
	}
	if len(text) > limit {
		t.Errorf("%s is %d bytes, over the service's %d", what, len(text), limit)
	}
	for _, f := range forbidden {
		if strings.Contains(text, f) {
			t.Errorf("%s keeps %q unescaped", what, f)
		}
	}
	if strings.ContainsRune(text, 0) || strings.ContainsRune(text, 0x1b) {
		t.Errorf("%s keeps control characters", what)
	}
}

func TestCut(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"},
		{"abc", 2, ""},
	} {
		got := cut(c.in, c.n)
		if got != c.want || len(got) > c.n || !utf8.ValidString(got) {
			t.Errorf("cut(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestChatTypesRegistered(t *testing.T) {
	types := strings.Join(Types(), ",")
	for _, want := range []string{"slack", "discord", "rocket", "msteams", "googlechat", "webex", "telegram", "lark", "zoom", "matrix", "zulip", "generic", "generic-hmac"} {
		if !strings.Contains(","+types+",", ","+want+",") {
			t.Errorf("type %s is not registered (have %s)", want, types)
		}
	}
}

// A chat's title is the summary when the event has one; the object is
// always shown.
func TestTitleAndFields(t *testing.T) {
	e := testEvent("info")
	if got := title(e); got != "production cluster" {
		t.Errorf("title = %q", got)
	}
	if got := objectName(e); got != "kustomization/apps.flux-system" {
		t.Errorf("objectName = %q", got)
	}
	delete(e.Metadata, "summary")
	if got := title(e); got != "kustomization/apps.flux-system" {
		t.Errorf("title without a summary = %q", got)
	}
	e.Metadata["a"], e.Metadata["z"] = "1", strings.Repeat("v", 5000)
	fs := fields(e)
	if len(fs) != 3 || fs[0].Key != "a" || fs[2].Key != "z" || len(fs[2].Value) > maxFieldValue {
		t.Errorf("fields = %+v", fs)
	}
}

func TestNeutralizeMentions(t *testing.T) {
	for in, want := range map[string]string{
		"@all please":         "@\u200ball please",
		"ping @here, (@team)": "ping @\u200bhere, (@\u200bteam)",
		"main@sha1:abc":       "main@sha1:abc",
	} {
		if got := neutralizeMentions(in); got != want {
			t.Errorf("neutralizeMentions(%q) = %q, want %q", in, got, want)
		}
	}
}
