package webhook

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // GitHub, Nexus and generic-hmac senders sign with SHA-1.
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
)

// hashOf is the HMAC algorithm a '<algo>=<hex>' signature names.
func hashOf(algo string) (func() hash.Hash, bool) {
	switch algo {
	case "sha1":
		return sha1.New, true
	case "sha256":
		return sha256.New, true
	case "sha512":
		return sha512.New, true
	}
	return nil, false
}

// validMAC tells whether hexSig is the HMAC of body under token with
// newHash, compared in constant time.
func validMAC(newHash func() hash.Hash, token, body []byte, hexSig string) bool {
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(newHash, token)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// checkPrefixed verifies a '<algo>=<hex>' signature of body.
func checkPrefixed(header, sig string, token, body []byte, allowed ...string) error {
	if sig == "" {
		return refuse("header %s is missing", header)
	}
	algo, hexSig, ok := strings.Cut(sig, "=")
	newHash, known := hashOf(strings.ToLower(algo))
	if !ok || !known || (len(allowed) > 0 && !contains(allowed, strings.ToLower(algo))) {
		return refuse("header %s must read '<sha1|sha256|sha512>=<hex HMAC>'", header)
	}
	if !validMAC(newHash, token, body, hexSig) {
		return refuse("header %s does not match the body signed with the receiver's token", header)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// equalToken compares a presented token with the Secret's in constant time.
func equalToken(got string, token []byte) bool {
	return len(token) > 0 && subtle.ConstantTimeCompare([]byte(got), token) == 1
}

func checkGenericHMAC(c Config, r Request) (Result, error) {
	if err := checkPrefixed("X-Signature", r.Header.Get("X-Signature"), c.Token, r.Body); err != nil {
		return Result{}, err
	}
	return accepted(r.Body), nil
}

// checkGitHub verifies GitHub's (and Gitea's) signature, the SHA-256 one
// when sent, then the event type; a ping is accepted and does nothing.
func checkGitHub(c Config, r Request) (Result, error) {
	var err error
	if sig := r.Header.Get("X-Hub-Signature-256"); sig != "" {
		err = checkPrefixed("X-Hub-Signature-256", sig, c.Token, r.Body, "sha256")
	} else {
		err = checkPrefixed("X-Hub-Signature", r.Header.Get("X-Hub-Signature"), c.Token, r.Body, "sha1")
	}
	if err != nil {
		return Result{}, err
	}
	event := r.Header.Get("X-GitHub-Event")
	if err := allowEvent(c.Events, "X-GitHub-Event", event); err != nil {
		return Result{}, err
	}
	if strings.EqualFold(event, "ping") {
		return Result{Skip: true}, nil
	}
	return accepted(formPayload(r.Header, r.Body)), nil
}

func checkGitLab(c Config, r Request) (Result, error) {
	if !equalToken(r.Header.Get("X-Gitlab-Token"), c.Token) {
		return Result{}, refuse("header X-Gitlab-Token does not match the receiver's token")
	}
	if err := allowEvent(c.Events, "X-Gitlab-Event", r.Header.Get("X-Gitlab-Event")); err != nil {
		return Result{}, err
	}
	return accepted(r.Body), nil
}

func checkBitbucket(c Config, r Request) (Result, error) {
	if err := checkPrefixed("X-Hub-Signature", r.Header.Get("X-Hub-Signature"), c.Token, r.Body, "sha256"); err != nil {
		return Result{}, err
	}
	if err := allowEvent(c.Events, "X-Event-Key", r.Header.Get("X-Event-Key")); err != nil {
		return Result{}, err
	}
	return accepted(r.Body), nil
}

func checkHarbor(c Config, r Request) (Result, error) {
	if !equalToken(r.Header.Get("Authorization"), c.Token) {
		return Result{}, refuse("header Authorization does not match the receiver's token")
	}
	return accepted(r.Body), nil
}

// checkShape accepts a JSON object carrying every key of keys: what Flux
// checks of registries that sign nothing.
func checkShape(r Request, sender string, keys ...string) (Result, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &obj); err != nil {
		return Result{}, refuse("cannot decode the %s payload: the body is not a JSON object", sender)
	}
	for _, k := range keys {
		if v, ok := obj[k]; !ok || string(v) == "null" {
			return Result{}, refuse("the %s payload has no %q field", sender, k)
		}
	}
	return accepted(r.Body), nil
}

// checkNexus verifies Nexus's hex HMAC-SHA1 signature and its payload.
func checkNexus(c Config, r Request) (Result, error) {
	sig := r.Header.Get("X-Nexus-Webhook-Signature")
	if sig == "" {
		return Result{}, refuse("header X-Nexus-Webhook-Signature is missing")
	}
	if !validMAC(sha1.New, c.Token, r.Body, sig) {
		return Result{}, refuse("header X-Nexus-Webhook-Signature does not match the body signed with the receiver's token")
	}
	var p struct {
		Action         string `json:"action"`
		RepositoryName string `json:"repositoryName"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Action == "" || p.RepositoryName == "" {
		return Result{}, refuse("cannot decode the Nexus payload: it needs 'action' and 'repositoryName'")
	}
	return accepted(r.Body), nil
}

// checkCDEvents filters on Ce-Type and checks the body is a CDEvent: a
// JSON object whose context carries an id, a source and the same type.
func checkCDEvents(c Config, r Request) (Result, error) {
	ceType := r.Header.Get("Ce-Type")
	if ceType == "" {
		return Result{}, refuse("header Ce-Type is missing")
	}
	if err := allowEvent(c.Events, "Ce-Type", ceType); err != nil {
		return Result{}, err
	}
	var ev struct {
		Context struct {
			ID     string `json:"id"`
			Source string `json:"source"`
			Type   string `json:"type"`
		} `json:"context"`
		Subject json.RawMessage `json:"subject"`
	}
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		return Result{}, refuse("cannot decode the CDEvent: the body is not a JSON object")
	}
	switch {
	case ev.Context.ID == "" || ev.Context.Source == "" || ev.Context.Type == "":
		return Result{}, refuse("the CDEvent's context needs 'id', 'source' and 'type'")
	case len(ev.Subject) == 0:
		return Result{}, refuse("the CDEvent has no 'subject'")
	case !strings.HasPrefix(ev.Context.Type, "dev.cdevents."):
		return Result{}, refuse("context.type %q is not a CDEvents type (dev.cdevents.*)", truncate(ev.Context.Type))
	case !strings.EqualFold(ev.Context.Type, ceType):
		return Result{}, refuse("header Ce-Type does not match the CDEvent's context.type")
	}
	return accepted(r.Body), nil
}
