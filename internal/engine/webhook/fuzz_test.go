package webhook_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/driftless/driftless/internal/engine/webhook"
)

// FuzzWebhookChecks sends random headers and bodies to every check: none
// panics, every refusal is a 400 without the theToken, and a random body
// never passes a check that needs the theToken.
func FuzzWebhookChecks(f *testing.F) {
	f.Add("github", "sha256=00", "push", []byte(pushBody))
	f.Add("generic-hmac", "sha1=zz", "", []byte("{}"))
	f.Add("nexus", "abcd", "", []byte(nexusBody))
	f.Add("cdevents", "", "dev.cdevents.artifact.published.0.1.1", []byte(cdeventBody))
	f.Add("dockerhub", "", "", []byte(dockerBody))
	f.Add("gitlab", "s3cr3t", "Push Hook", []byte(`{`))
	f.Add("gcr", "Bearer a.b.c", "", []byte(`{}`))
	f.Add("generic-oidc", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.", "", []byte(`{}`))
	f.Fuzz(func(t *testing.T, typ, sig, event string, body []byte) {
		h := http.Header{}
		for _, k := range []string{"X-Signature", "X-Hub-Signature", "X-Hub-Signature-256", "X-Nexus-Webhook-Signature", "X-Gitlab-Token", "Authorization"} {
			h.Set(k, sig)
		}
		for _, k := range []string{"X-GitHub-Event", "X-Gitlab-Event", "X-Event-Key", "Ce-Type"} {
			h.Set(k, event)
		}
		res, err := webhook.Check(context.Background(), webhook.Config{Type: typ, Token: theToken, Events: []string{"push"},
			Keys: &webhook.Keys{GoogleURL: "http://127.0.0.1:1/keys"}, GCR: webhook.GCR{Email: "a@b", Audience: "x"}}, webhook.Request{Header: h, Body: body})
		if err != nil {
			if webhook.StatusOf(err) != http.StatusBadRequest {
				t.Fatalf("status %d", webhook.StatusOf(err))
			}
			return
		}
		switch typ {
		case "generic-hmac", "github", "bitbucket", "nexus", "gitlab", "harbor", "gcr", "generic-oidc":
			if sig != string(theToken) {
				t.Fatalf("%s accepted a request not signed with the theToken: sig %q, skip %v", typ, sig, res.Skip)
			}
		}
	})
}
