package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the senders' own algorithm
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/driftless/driftless/internal/engine/webhook"
)

var theToken = []byte("s3cr3t-theToken-value")

func sign(newHash func() hash.Hash, key []byte, body string) string {
	m := hmac.New(newHash, key)
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const (
	pushBody    = `{"ref":"refs/heads/main","repository":{"full_name":"org/app"}}`
	dockerBody  = `{"callback_url":"https://registry.hub.docker.com/u/org/app/hook/x/","push_data":{"pushed_at":1,"pusher":"me","tag":"1.0.0"},"repository":{"repo_name":"org/app"}}`
	quayBody    = `{"repository":"org/app","docker_url":"quay.io/org/app","updated_tags":["1.0.0"]}`
	acrBody     = `{"id":"1","action":"push","target":{"repository":"app","tag":"1.0.0"}}`
	nexusBody   = `{"timestamp":"2024-01-01T00:00:00Z","nodeId":"n","initiator":"admin","repositoryName":"docker-hosted","action":"CREATED","component":{"name":"app","version":"1.0.0"}}`
	cdeventBody = `{"context":{"version":"0.4.1","id":"271069a8","source":"/ci/pipeline","type":"dev.cdevents.artifact.published.0.1.1","timestamp":"2024-01-01T00:00:00Z"},"subject":{"id":"pkg:oci/app@sha256:0","content":{}}}`
)

func TestChecks(t *testing.T) {
	forged := []byte("another-theToken")
	cases := []struct {
		name   string
		cfg    webhook.Config
		req    webhook.Request
		ok     bool
		skip   bool
		reason string
	}{
		{"generic accepts anything", webhook.Config{Type: "generic"}, webhook.Request{Header: hdr(), Body: []byte("x")}, true, false, ""},

		{"generic-hmac sha256", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr("X-Signature", "sha256="+sign(sha256.New, theToken, pushBody)), Body: []byte(pushBody)}, true, false, ""},
		{"generic-hmac sha1", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr("X-Signature", "sha1="+sign(sha1.New, theToken, pushBody)), Body: []byte(pushBody)}, true, false, ""},
		{"generic-hmac sha512", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr("X-Signature", "sha512="+sign(sha512.New, theToken, pushBody)), Body: []byte(pushBody)}, true, false, ""},
		{"generic-hmac forged", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr("X-Signature", "sha256="+sign(sha256.New, forged, pushBody)), Body: []byte(pushBody)}, false, false, "does not match"},
		{"generic-hmac unknown algorithm", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr("X-Signature", "md5=00"), Body: []byte(pushBody)}, false, false, "<sha1|sha256|sha512>"},
		{"generic-hmac missing", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr(), Body: []byte(pushBody)}, false, false, "X-Signature is missing"},
		{"generic-hmac body changed", webhook.Config{Type: "generic-hmac", Token: theToken},
			webhook.Request{Header: hdr("X-Signature", "sha256="+sign(sha256.New, theToken, pushBody)), Body: []byte(pushBody + " ")}, false, false, "does not match"},

		{"github sha256 push", webhook.Config{Type: "github", Token: theToken, Events: []string{"ping", "push"}},
			webhook.Request{Header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, theToken, pushBody), "X-GitHub-Event", "push"), Body: []byte(pushBody)}, true, false, ""},
		{"github sha1 push, events case-insensitive", webhook.Config{Type: "github", Token: theToken, Events: []string{"PUSH"}},
			webhook.Request{Header: hdr("X-Hub-Signature", "sha1="+sign(sha1.New, theToken, pushBody), "X-GitHub-Event", "push"), Body: []byte(pushBody)}, true, false, ""},
		{"github prefers sha256: a forged 256 with a good sha1 fails", webhook.Config{Type: "github", Token: theToken},
			webhook.Request{Header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, forged, pushBody), "X-Hub-Signature", "sha1="+sign(sha1.New, theToken, pushBody), "X-GitHub-Event", "push"), Body: []byte(pushBody)}, false, false, "X-Hub-Signature-256 does not match"},
		{"github ping skips", webhook.Config{Type: "github", Token: theToken, Events: []string{"ping", "push"}},
			webhook.Request{Header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, theToken, "{}"), "X-GitHub-Event", "ping"), Body: []byte("{}")}, true, true, ""},
		{"github wrong event", webhook.Config{Type: "github", Token: theToken, Events: []string{"ping", "push"}},
			webhook.Request{Header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, theToken, pushBody), "X-GitHub-Event", "issues"), Body: []byte(pushBody)}, false, false, `"issues"`},
		{"github forged", webhook.Config{Type: "github", Token: theToken},
			webhook.Request{Header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, forged, pushBody), "X-GitHub-Event", "push"), Body: []byte(pushBody)}, false, false, "does not match"},
		{"github sha512 refused in X-Hub-Signature-256", webhook.Config{Type: "github", Token: theToken},
			webhook.Request{Header: hdr("X-Hub-Signature-256", "sha512="+sign(sha512.New, theToken, pushBody), "X-GitHub-Event", "push"), Body: []byte(pushBody)}, false, false, "must read"},
		{"github unsigned", webhook.Config{Type: "github", Token: theToken},
			webhook.Request{Header: hdr("X-GitHub-Event", "push"), Body: []byte(pushBody)}, false, false, "X-Hub-Signature is missing"},

		{"gitlab", webhook.Config{Type: "gitlab", Token: theToken, Events: []string{"Push Hook"}},
			webhook.Request{Header: hdr("X-Gitlab-Token", string(theToken), "X-Gitlab-Event", "push hook"), Body: []byte(pushBody)}, true, false, ""},
		{"gitlab forged", webhook.Config{Type: "gitlab", Token: theToken},
			webhook.Request{Header: hdr("X-Gitlab-Token", string(forged), "X-Gitlab-Event", "Push Hook"), Body: []byte(pushBody)}, false, false, "X-Gitlab-Token"},
		{"gitlab prefix of theToken", webhook.Config{Type: "gitlab", Token: theToken},
			webhook.Request{Header: hdr("X-Gitlab-Token", string(theToken[:4])), Body: []byte(pushBody)}, false, false, "X-Gitlab-Token"},
		{"gitlab wrong event", webhook.Config{Type: "gitlab", Token: theToken, Events: []string{"Push Hook"}},
			webhook.Request{Header: hdr("X-Gitlab-Token", string(theToken), "X-Gitlab-Event", "Tag Push Hook"), Body: []byte(pushBody)}, false, false, "not in spec.events"},

		{"bitbucket", webhook.Config{Type: "bitbucket", Token: theToken, Events: []string{"repo:refs_changed"}},
			webhook.Request{Header: hdr("X-Hub-Signature", "sha256="+sign(sha256.New, theToken, pushBody), "X-Event-Key", "repo:refs_changed"), Body: []byte(pushBody)}, true, false, ""},
		{"bitbucket forged", webhook.Config{Type: "bitbucket", Token: theToken},
			webhook.Request{Header: hdr("X-Hub-Signature", "sha256="+sign(sha256.New, forged, pushBody), "X-Event-Key", "repo:push"), Body: []byte(pushBody)}, false, false, "does not match"},
		{"bitbucket wrong event", webhook.Config{Type: "bitbucket", Token: theToken, Events: []string{"repo:refs_changed"}},
			webhook.Request{Header: hdr("X-Hub-Signature", "sha256="+sign(sha256.New, theToken, pushBody), "X-Event-Key", "pr:opened"), Body: []byte(pushBody)}, false, false, "not in spec.events"},

		{"harbor", webhook.Config{Type: "harbor", Token: theToken}, webhook.Request{Header: hdr("Authorization", string(theToken)), Body: []byte("{}")}, true, false, ""},
		{"harbor forged", webhook.Config{Type: "harbor", Token: theToken}, webhook.Request{Header: hdr("Authorization", "Bearer "+string(theToken)), Body: []byte("{}")}, false, false, "Authorization"},
		{"harbor empty theToken never matches", webhook.Config{Type: "harbor"}, webhook.Request{Header: hdr(), Body: []byte("{}")}, false, false, "Authorization"},

		{"dockerhub", webhook.Config{Type: "dockerhub", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte(dockerBody)}, true, false, ""},
		{"dockerhub not JSON", webhook.Config{Type: "dockerhub", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte("push")}, false, false, "not a JSON object"},
		{"dockerhub other shape", webhook.Config{Type: "dockerhub", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte(quayBody)}, false, false, `"push_data"`},
		{"quay", webhook.Config{Type: "quay", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte(quayBody)}, true, false, ""},
		{"quay other shape", webhook.Config{Type: "quay", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte(acrBody)}, false, false, `"docker_url"`},
		{"acr", webhook.Config{Type: "acr", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte(acrBody)}, true, false, ""},
		{"acr other shape", webhook.Config{Type: "acr", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte(`{"action":"push","target":null}`)}, false, false, `"target"`},

		{"nexus", webhook.Config{Type: "nexus", Token: theToken},
			webhook.Request{Header: hdr("X-Nexus-Webhook-Signature", sign(sha1.New, theToken, nexusBody)), Body: []byte(nexusBody)}, true, false, ""},
		{"nexus forged", webhook.Config{Type: "nexus", Token: theToken},
			webhook.Request{Header: hdr("X-Nexus-Webhook-Signature", sign(sha1.New, forged, nexusBody)), Body: []byte(nexusBody)}, false, false, "does not match"},
		{"nexus signed but not a Nexus payload", webhook.Config{Type: "nexus", Token: theToken},
			webhook.Request{Header: hdr("X-Nexus-Webhook-Signature", sign(sha1.New, theToken, "{}")), Body: []byte("{}")}, false, false, "repositoryName"},

		{"cdevents", webhook.Config{Type: "cdevents", Token: theToken, Events: []string{"dev.cdevents.artifact.published.0.1.1"}},
			webhook.Request{Header: hdr("Ce-Type", "dev.cdevents.artifact.published.0.1.1"), Body: []byte(cdeventBody)}, true, false, ""},
		{"cdevents wrong type", webhook.Config{Type: "cdevents", Token: theToken, Events: []string{"dev.cdevents.artifact.packaged.0.1.1"}},
			webhook.Request{Header: hdr("Ce-Type", "dev.cdevents.artifact.published.0.1.1"), Body: []byte(cdeventBody)}, false, false, "not in spec.events"},
		{"cdevents header and body disagree", webhook.Config{Type: "cdevents", Token: theToken},
			webhook.Request{Header: hdr("Ce-Type", "dev.cdevents.artifact.packaged.0.1.1"), Body: []byte(cdeventBody)}, false, false, "does not match"},
		{"cdevents not an event", webhook.Config{Type: "cdevents", Token: theToken},
			webhook.Request{Header: hdr("Ce-Type", "dev.cdevents.artifact.published.0.1.1"), Body: []byte(`{"context":{}}`)}, false, false, "'id', 'source' and 'type'"},

		{"unsupported type", webhook.Config{Type: "bogus", Token: theToken}, webhook.Request{Header: hdr(), Body: []byte("{}")}, false, false, `"bogus" is not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := webhook.Check(context.Background(), tc.cfg, tc.req)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused a genuine request: %v", err)
				}
				if res.Skip != tc.skip {
					t.Fatalf("Skip = %v, want %v", res.Skip, tc.skip)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted a request that must be refused")
			}
			if webhook.StatusOf(err) != http.StatusBadRequest {
				t.Errorf("status %d, want 400", webhook.StatusOf(err))
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("reason %q does not say %q", err.Error(), tc.reason)
			}
			if strings.Contains(err.Error(), string(theToken)) {
				t.Errorf("reason %q holds the theToken", err.Error())
			}
		})
	}
}

func TestGitHubFormBody(t *testing.T) {
	form := "payload=" + url.QueryEscape(pushBody)
	res, err := webhook.Check(context.Background(), webhook.Config{Type: "github", Token: theToken}, webhook.Request{
		Header: hdr("Content-Type", "application/x-www-form-urlencoded", "X-GitHub-Event", "push",
			"X-Hub-Signature-256", "sha256="+sign(sha256.New, theToken, form)),
		Body: []byte(form),
	})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := res.Payload.(map[string]any)
	if !ok || m["ref"] != "refs/heads/main" {
		t.Fatalf("payload not decoded from the form: %#v", res.Payload)
	}
}

func TestReadBody(t *testing.T) {
	body, err := webhook.ReadBody(strings.NewReader(strings.Repeat("a", webhook.MaxBodySize)))
	if err != nil || len(body) != webhook.MaxBodySize {
		t.Fatalf("a body of exactly the limit: %d bytes, %v", len(body), err)
	}
	_, err = webhook.ReadBody(strings.NewReader(strings.Repeat("a", webhook.MaxBodySize+1)))
	var we *webhook.Error
	if !errors.As(err, &we) || we.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over the limit: %v, want 413", err)
	}
}

func TestPayloadNumbers(t *testing.T) {
	res, err := webhook.Check(context.Background(), webhook.Config{Type: "generic"}, webhook.Request{Body: []byte(`{"n":3,"f":1.5}`)})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Payload.(map[string]any)
	if m["n"] != int64(3) || m["f"] != 1.5 {
		t.Fatalf("numbers: %#v", m)
	}
	res, _ = webhook.Check(context.Background(), webhook.Config{Type: "generic"}, webhook.Request{Body: []byte(`{} {}`)})
	if res.Payload != nil {
		t.Fatalf("two JSON values decoded as a payload: %#v", res.Payload)
	}
}

// What a caller sends reaches a reason bounded and as valid UTF-8: a huge
// or binary event header cannot flood the answer or the log.
func TestReasonsBoundCallerInput(t *testing.T) {
	body := []byte(pushBody)
	huge := strings.Repeat("\xff<script>", 2000)
	_, err := webhook.Check(context.Background(), webhook.Config{Type: "github", Token: theToken, Events: []string{"push"}}, webhook.Request{
		Header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, theToken, pushBody), "X-GitHub-Event", huge), Body: body})
	if err == nil {
		t.Fatal("accepted")
	}
	if len(err.Error()) > 200 || !utf8.ValidString(err.Error()) {
		t.Fatalf("reason of %d bytes, valid UTF-8 %v", len(err.Error()), utf8.ValidString(err.Error()))
	}
}
