package receiver_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // GitHub's legacy signature
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/engine/webhook"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

const pushBody = `{"ref":"refs/heads/main","repository":{"name":"payments-config"}}`

// TestExample07GitHubReceiver: a GitHub-signed push to example 07's
// github-receiver annotates payments-config; ping is accepted and changes
// nothing; issues and a bad signature change nothing.
func TestExample07GitHubReceiver(t *testing.T) {
	const ns = "flux-system"
	namespace(t, ns)
	example := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/07-notifications-slack.yaml")
	recvs := receiversOf(t, example)
	if len(recvs) != 1 {
		t.Fatalf("example 07 has %d Receivers", len(recvs))
	}
	const token = "gh-webhook-secret"
	tokenSecret(t, ns, recvs[0].Spec.SecretRef.Name, token)
	removeAfter(t, recvs[0], secretObject(ns, recvs[0].Spec.SecretRef.Name), gitRepository(t, ns, "payments-config", nil))
	path := ready(t, createReceiver(t, recvs[0]))

	body := []byte(pushBody)
	expect(t, postSeen(t, addr, path, []byte("{}"), "X-GitHub-Event", "ping", "X-Hub-Signature-256", sign256(token, []byte("{}"))), 200, "nothing to reconcile")
	expect(t, post(t, addr, path, body, "X-GitHub-Event", "issues", "X-Hub-Signature-256", sign256(token, body)), 400, `"issues"`)
	expect(t, post(t, addr, path, body, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign256("guess", body)), 400, "does not match")
	resp := post(t, addr, path, body, "X-GitHub-Event", "push", "X-Hub-Signature-256", "sha256=zz")
	expect(t, resp, 400, "does not match")
	if strings.Contains(resp.body, token) {
		t.Fatal("the answer holds the token")
	}
	if v := requestedAt(t, ns, "payments-config"); v != "" {
		t.Fatalf("annotated by a refused or ping request: %q", v)
	}
	expect(t, post(t, addr, path, body, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign256(token, body)), 200, "accepted")
	waitAnnotated(t, ns, "payments-config", "")

	// GitHub's legacy SHA-1 signature, as Gitea and old hooks send.
	m := hmac.New(sha1.New, []byte(token))
	m.Write(body)
	expect(t, post(t, addr, path, body, "X-GitHub-Event", "push", "X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil))), 200, "accepted")
}

// TestExample10ReceiverWithoutAPIVersion: the resource names no
// apiVersion; it gets GitRepository's Flux version and annotates myapp.
func TestExample10ReceiverWithoutAPIVersion(t *testing.T) {
	const ns = "flux-system"
	namespace(t, ns)
	recvs := receiversOf(t, testcluster.ReadRepoFile(t, "config/testdata/mission-examples/10-event-driven-objects.yaml"))
	if len(recvs) != 1 || recvs[0].Spec.Resources[0].APIVersion != "" {
		t.Fatalf("example 10 changed: %+v", recvs)
	}
	const token = "ex10-secret"
	tokenSecret(t, ns, recvs[0].Spec.SecretRef.Name, token)
	removeAfter(t, recvs[0], secretObject(ns, recvs[0].Spec.SecretRef.Name), gitRepository(t, ns, "myapp", nil))
	path := ready(t, createReceiver(t, recvs[0]))
	body := []byte(pushBody)
	expect(t, postSeen(t, addr, path, body, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign256(token, body)), 200, "accepted")
	waitAnnotated(t, ns, "myapp", "")
}

func TestMatchLabelsAndFilters(t *testing.T) {
	ns := namespace(t, "")
	const token = "hmac-token"
	tokenSecret(t, ns, "token", token)
	gitRepository(t, ns, "frontend", map[string]string{"team": "web"})
	gitRepository(t, ns, "backend", map[string]string{"team": "web"})
	gitRepository(t, ns, "other", map[string]string{"team": "data"})
	obj := genericReceiver(ns, "hook", "token", notificationv1.ReceiverResource{
		CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{
			APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "*", MatchLabels: map[string]string{"team": "web"}},
		Filter: "res.metadata.labels['team'] == 'web'",
	})
	obj.Spec.Type = "generic-hmac"
	obj.Spec.ResourceFilter = "req.app == res.metadata.name"
	path := ready(t, createReceiver(t, obj))

	body := []byte(`{"app":"frontend"}`)
	expect(t, postSeen(t, addr, path, body, "X-Signature", sign256("wrong", body)), 400, "does not match")
	expect(t, post(t, addr, path, body, "X-Signature", sign256(token, body)), 200, "accepted")
	waitAnnotated(t, ns, "frontend", "")
	for _, name := range []string{"backend", "other"} {
		if v := requestedAt(t, ns, name); v != "" {
			t.Errorf("%s annotated although the filters refuse it: %q", name, v)
		}
	}
	// 'other' does not match the labels even when the body names it.
	body = []byte(`{"app":"other"}`)
	expect(t, post(t, addr, path, body, "X-Signature", sign256(token, body)), 200, "accepted")
	if v := requestedAt(t, ns, "other"); v != "" {
		t.Errorf("other annotated: %q", v)
	}
}

func TestSuspendedReceiverAnswers503(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	obj := createReceiver(t, genericReceiver(ns, "hook", "token"))
	path := ready(t, obj)
	controllertestPatch(t, obj, `{"spec":{"suspend":true}}`)
	// Until the server sees the suspension it answers 500: the
	// GitRepository does not exist yet, so no request can annotate it.
	waitUntil(t, "a suspended Receiver answering 503", func() bool {
		return post(t, addr, path, []byte("{}")).code == 503
	})
	gitRepository(t, ns, "app", nil)
	expect(t, post(t, addr, path, []byte("{}")), 503, "suspended")
	if v := requestedAt(t, ns, "app"); v != "" {
		t.Fatalf("a suspended Receiver annotated: %q", v)
	}
}

// With --no-cross-namespace-refs a resource in another namespace is not
// annotated, and the request answers 500; its own namespace's is.
func TestLockdownRefusesOtherNamespaces(t *testing.T) {
	ns, other := namespace(t, ""), namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	gitRepository(t, ns, "app", nil)
	gitRepository(t, other, "app", nil)
	obj := genericReceiver(ns, "hook", "token",
		notificationv1.ReceiverResource{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app"}},
		notificationv1.ReceiverResource{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app", Namespace: other}},
	)
	obj.Labels = map[string]string{lockdownLabel: "true"}
	path := ready(t, createReceiver(t, obj))
	if got := post(t, addr, path, []byte("{}")); got.code != 404 {
		t.Fatalf("the default server answers %d for a Receiver it does not watch", got.code)
	}
	expect(t, postSeen(t, lockedAddr, path, []byte("{}")), 500, "1 object(s) could not be annotated")
	waitAnnotated(t, ns, "app", "")
	if v := requestedAt(t, other, "app"); v != "" {
		t.Fatalf("annotated across namespaces under lockdown: %q", v)
	}
}

func TestBadRequests(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	path := ready(t, createReceiver(t, genericReceiver(ns, "hook", "token")))
	// A resource that does not exist fails the request.
	expect(t, postSeen(t, addr, path, []byte("{}")), 500, "could not be annotated")
	gitRepository(t, ns, "app", nil)
	expect(t, post(t, addr, path, bytes.Repeat([]byte("a"), webhook.MaxBodySize+1)), 413, "request body over")
	expect(t, post(t, addr, "/hook/"+strings.Repeat("0", 64), []byte("{}")), 404, "no receiver")
	expect(t, post(t, addr, "/elsewhere", []byte("{}")), 404, "not found")
	if v := requestedAt(t, ns, "app"); v != "" {
		t.Fatalf("annotated by a refused request: %q", v)
	}
}

// A flood gets 429 with Retry-After, and the object is patched at most
// once a second, the last request followed by a patch.
func TestFloodIsLimited(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	gitRepository(t, ns, "app", nil)
	path := ready(t, createReceiver(t, genericReceiver(ns, "hook", "token")))
	expect(t, postSeen(t, addr, path, []byte("{}")), 200, "accepted")
	ok, limited := 1, 0
	var retry string
	for range 60 {
		switch r := post(t, addr, path, []byte("{}")); r.code {
		case 200:
			ok++
		case 429:
			limited++
			retry = r.retryAfter
		default:
			t.Fatalf("answer %d %q", r.code, r.body)
		}
	}
	if limited == 0 || ok == 0 {
		t.Fatalf("%d accepted, %d limited: want both", ok, limited)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 {
		t.Fatalf("Retry-After %q", retry)
	}
	if n := metricSum(t, "driftless_receiver_requests_refused_total", "429"); n < float64(limited) {
		t.Fatalf("driftless_receiver_requests_refused_total{code=429} = %v, want at least %d", n, limited)
	}
	if n := metricSum(t, "gotk_receiver_http_request_duration_seconds", "429"); n < float64(limited) {
		t.Fatalf("gotk_receiver_http_request_duration_seconds{code=429} counted %v, want at least %d", n, limited)
	}
	first := waitAnnotated(t, ns, "app", "")
	// The burst's trailing patch comes after the first one.
	waitAnnotated(t, ns, "app", first)
}

// Two Receivers with one token get different paths: the path hashes the
// name and namespace too.
func TestPathsDiffer(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "shared")
	a := ready(t, createReceiver(t, genericReceiver(ns, "a", "token")))
	b := ready(t, createReceiver(t, genericReceiver(ns, "b", "token")))
	if a == b {
		t.Fatal("two Receivers share a path")
	}
}

// metricSum adds up the series of metric name with label code: a
// counter's value, or a histogram's count of samples.
func metricSum(t *testing.T, name, code string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					sum += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return sum
}
