package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// generic POSTs the Event JSON itself with Gotk-Component and the
// Secret's headers, which cannot replace the notifier's own.
func TestGenericPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "generic", Address: fake.URL + "/hook", Headers: map[string]string{"X-Team": "platform", "Gotk-Component": "spoofed", "Content-Type": "text/plain"}}
	post(t, build(t, s), testEvent("error"))
	r := fake.only(t)
	golden(t, "generic-error", r, "Content-Type", "Gotk-Component", "X-Team", "X-Signature")

	info := newFakeService(t)
	post(t, build(t, Settings{Type: "generic", Address: info.URL + "/hook"}), testEvent("info"))
	golden(t, "generic-info", info.only(t), "Content-Type", "Gotk-Component")
	var got eventv1.Event
	if err := json.Unmarshal(r.Body, &got); err != nil || !reflect.DeepEqual(got.Metadata, testEvent("error").Metadata) || got.Message != testEvent("error").Message {
		t.Errorf("the body is not the event: %v %s", err, r.Body)
	}
	failsWithStatus(t, s, fake, http.StatusBadGateway)
}

// generic-hmac signs the exact body with the token.
func TestGenericHMACPayload(t *testing.T) {
	fake := newFakeService(t)
	s := Settings{Type: "generic-hmac", Address: fake.URL + "/hook/abc", AddressFromSecret: true, Token: secretToken, Headers: map[string]string{"X-Signature": "sha256=forged"}}
	post(t, build(t, s), testEvent("error"))
	r := fake.only(t)
	golden(t, "generic-hmac-error", r, "Content-Type", "Gotk-Component", "X-Signature")
	mac := hmac.New(sha256.New, []byte(secretToken))
	mac.Write(r.Body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.Header.Get("X-Signature") != want {
		t.Errorf("X-Signature %q, want %q", r.Header.Get("X-Signature"), want)
	}
	failsWithStatus(t, s, fake, http.StatusForbidden)
}

func TestGenericSettings(t *testing.T) {
	badAddresses(t, Settings{Type: "generic", Address: "https://hooks.example.com/x"}, false)
	badAddresses(t, Settings{Type: "generic-hmac", Address: "https://hooks.example.com/x", Token: secretToken}, false)
	refused(t, Settings{Type: "generic-hmac", Address: "https://hooks.example.com/x"}, `"token"`)
	// A header that would inject another, or that is no header name.
	refused(t, Settings{Type: "generic", Address: "https://hooks.example.com/x", Headers: map[string]string{"X-A": "v\r\nX-Injected: 1"}}, `"X-A"`, "line break")
	refused(t, Settings{Type: "generic", Address: "https://hooks.example.com/x", Headers: map[string]string{"Bad Name": "v"}}, "not a valid header name")
}

// A reporting controller with a line break (from a posted event) does not
// inject a header.
func TestGenericHostileEvent(t *testing.T) {
	fake := newFakeService(t)
	e := hostile()
	e.ReportingController = "kustomize-controller\r\nX-Injected: 1"
	post(t, build(t, Settings{Type: "generic", Address: fake.URL}), e)
	r := fake.only(t)
	if r.Header.Get("X-Injected") != "" || r.Header.Get("Gotk-Component") != "kustomize-controllerX-Injected: 1" {
		t.Errorf("headers %v", r.Header)
	}
	if !json.Valid(r.Body) {
		t.Errorf("the body is not JSON")
	}
}
