package notification_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/testkit/testca"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// service is one fake that stands for every hosted service: it records
// each request and answers a read (GET) with nothing found and anything
// else with a success every service's client accepts.
type service struct {
	url  string
	mu   sync.Mutex
	seen []string // "METHOD path"
}

func newService(t *testing.T) *service {
	s := &service{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			// Bitbucket, Bitbucket Server and Azure DevOps answer one
			// object; the others a list.
			if strings.Contains(r.URL.Path, "/statuses/build/") || strings.HasSuffix(r.URL.Path, "/builds") || strings.Contains(r.URL.Path, "/_apis/") {
				_, _ = io.WriteString(w, "{}")
				return
			}
			_, _ = io.WriteString(w, "[]")
			return
		}
		_, _ = io.WriteString(w, `{"ok":true,"id":1}`)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// hit returns the first request whose path contains part.
func (s *service) hit(part string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.seen {
		if strings.Contains(r, part) {
			return r, true
		}
	}
	return "", false
}

// providerCase is one Provider type as a user sets it up against the fake:
// its spec and Secret, and the part of the path its request must reach.
type providerCase struct {
	typ, channel, username string
	// address is appended to the fake's URL, unless it has a scheme.
	address string
	secret  map[string]string
	want    string
}

func providerCases(base string) []providerCase {
	return []providerCase{
		{typ: "slack", address: "/slack/services/T0/B0/x", channel: "#flux", want: "/slack/services/T0/B0/x"},
		{typ: "discord", address: "/discord/api/webhooks/1/x", want: "/discord/api/webhooks/1/x/slack"},
		{typ: "rocket", address: "/rocket/hooks/a/b", want: "/rocket/hooks/a/b"},
		{typ: "msteams", address: "/msteams/workflows/x", want: "/msteams/workflows/x"},
		{typ: "googlechat", address: "/googlechat/v1/spaces/A/messages", want: "/googlechat/v1/spaces/A/messages"},
		{typ: "webex", address: "/webex/v1/messages", channel: "room", secret: map[string]string{"token": "t"}, want: "/webex/v1/messages"},
		{typ: "telegram", address: "/telegram", channel: "-100123", secret: map[string]string{"token": "123456:ABC-def"}, want: "/telegram/bot123456:ABC-def/sendMessage"},
		{typ: "lark", address: "/lark/open-apis/bot/v2/hook/abc", want: "/lark/open-apis/bot/v2/hook/abc"},
		{typ: "zoom", address: "/zoom/inbound/hook/abc", secret: map[string]string{"token": "t"}, want: "/zoom/inbound/hook/abc"},
		{typ: "matrix", address: "/matrix", channel: "!room:example.org", secret: map[string]string{"token": "t"}, want: "/matrix/"},
		{typ: "zulip", address: "/zulip", channel: "ops/flux", secret: map[string]string{"username": "bot@example.com", "password": "k"}, want: "/zulip/"},
		{typ: "alertmanager", address: "/alertmanager/api/v2/alerts", want: "/alertmanager/api/v2/alerts"},
		{typ: "pagerduty", channel: "ROUTING_KEY", secret: map[string]string{"address": base}, want: "/v2/enqueue"},
		{typ: "opsgenie", address: "/opsgenie/v2/alerts", secret: map[string]string{"token": "t"}, want: "/opsgenie/v2/alerts"},
		{typ: "incident.io", address: "/incidentio/v2/alert_events/http/x", secret: map[string]string{"token": "t"}, want: "/incidentio/v2/alert_events/http/x"},
		{typ: "datadog", address: "/datadog", secret: map[string]string{"token": "t"}, want: "/datadog/"},
		{typ: "grafana", address: "/grafana/api/annotations", secret: map[string]string{"token": "t"}, want: "/grafana/api/annotations"},
		{typ: "sentry", secret: map[string]string{"address": strings.Replace(base, "http://", "http://pubkey@", 1) + "/sentry/42"}, want: "/sentry/"},
		{typ: "generic", address: "/generic/hook", want: "/generic/hook"},
		{typ: "generic-hmac", address: "/generichmac/hook", secret: map[string]string{"token": "t"}, want: "/generichmac/hook"},
		{typ: "otel", address: "/otel/v1/traces", want: "/otel/v1/traces"},
		{typ: "github", address: "/github-org/repo", secret: map[string]string{"token": "t"}, want: "POST /api/v3/repos/github-org/repo/statuses/"},
		{typ: "gitlab", address: "/gitlab-org/repo", secret: map[string]string{"token": "t"}, want: "POST /api/v4/projects/gitlab-org/repo/statuses/"},
		{typ: "gitea", address: "/gitea-org/repo", secret: map[string]string{"token": "t"}, want: "POST /api/v1/repos/gitea-org/repo/statuses/"},
		{typ: "bitbucket", address: "/bitbucket-org/repo", secret: map[string]string{"token": "user:app-password"}, want: "POST /2.0/repositories/bitbucket-org/repo/commit/"},
		{typ: "bitbucketserver", address: "/scm/BBS/repo.git", secret: map[string]string{"username": "u", "password": "p"}, want: "POST /rest/api/1.0/projects/BBS/repos/repo/commits/"},
		{typ: "azuredevops", address: "/azure-org/proj/_git/repo", secret: map[string]string{"token": "t"}, want: "POST /azure-org/proj/_apis/git/repositories/repo/commits/"},
		{typ: "githubdispatch", address: "/dispatch-org/repo", secret: map[string]string{"token": "t"}, want: "/dispatch-org/repo/dispatches"},
		{typ: "githubpullrequestcomment", address: "/ghpr-org/repo", secret: map[string]string{"token": "t"}, want: "POST /api/v3/repos/ghpr-org/repo/issues/12/comments"},
		{typ: "gitlabmergerequestcomment", address: "/glmr-org/repo", secret: map[string]string{"token": "t"}, want: "POST /api/v4/projects/glmr-org/repo/merge_requests/12/notes"},
		{typ: "giteapullrequestcomment", address: "/gtpr-org/repo", secret: map[string]string{"token": "t"}, want: "POST /api/v1/repos/gtpr-org/repo/issues/12/comments"},
	}
}

// TestEveryProviderTypeDelivers sends one event through real Alert,
// Provider and Secret objects for each provider type that an http(s)
// address can point at a local service, and checks that the type's request
// reached it. nats, googlepubsub and azureeventhub, which need more than
// an http address, have their own tests below.
func TestEveryProviderTypeDelivers(t *testing.T) {
	svc := newService(t)
	cases := providerCases(svc.url)
	revision := "main@sha1:0123456789abcdef0123456789abcdef01234567"
	ctx := context.Background()
	namespaces := map[string]string{}
	for _, c := range cases {
		ns := env.Namespace(t)
		namespaces[c.typ] = ns
		p := &v1beta3.Provider{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
			Spec:       v1beta3.ProviderSpec{Type: c.typ, Channel: c.channel, Username: c.username},
		}
		if c.address != "" {
			p.Spec.Address = svc.url + c.address
		}
		if c.secret != nil {
			data := map[string][]byte{}
			for k, v := range c.secret {
				data[k] = []byte(v)
			}
			if err := kube.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Data: data}); err != nil {
				t.Fatal(err)
			}
			p.Spec.SecretRef = &meta.LocalObjectReference{Name: "p"}
		}
		a := &v1beta3.Alert{
			ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "p"}, EventSeverity: "info",
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "app"}}},
		}
		if err := kube.Create(ctx, p); err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		if err := kube.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	// Post each namespace's error event until its type's request comes (the
	// Alert may not be in the dispatcher's cache at the first post); each
	// post changes the message so that the rate limit lets it through.
	pending := map[string]bool{}
	for _, c := range cases {
		pending[c.typ] = true
	}
	err := testcluster.Poll(90*time.Second, func() (bool, error) {
		for _, c := range cases {
			if !pending[c.typ] {
				continue
			}
			if _, ok := svc.hit(c.want); ok {
				delete(pending, c.typ)
				continue
			}
			postEvent(t, eventv1.Event{
				InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization",
					Namespace: namespaces[c.typ], Name: "app", UID: "6f1f6c3c-0000-4000-8000-000000000001"},
				Severity: eventv1.EventSeverityError, Timestamp: metav1.Now(), Reason: "BuildFailed",
				Message: fmt.Sprintf("kustomize build failed at %s", time.Now().Format(time.RFC3339Nano)),
				Metadata: map[string]string{
					"kustomize.toolkit.fluxcd.io/revision":   revision,
					"event.toolkit.fluxcd.io/change_request": "12",
				},
				ReportingController: "kustomize-controller",
			})
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		svc.mu.Lock()
		seen := strings.Join(svc.seen, "\n")
		svc.mu.Unlock()
		for typ := range pending {
			t.Errorf("provider type %s: no request reached the service", typ)
		}
		t.Fatalf("%v; the service saw:\n%s", err, seen)
	}
}

// TestNATSProviderDelivers publishes through a real NATS server with
// credentials from the Provider's Secret.
func TestNATSProviderDelivers(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, Users: []*server.User{
		{Username: "flux", Password: "n4ts-pa55"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	conn, err := nats.Connect(srv.ClientURL(), nats.UserInfo("flux", "n4ts-pa55"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	sub, err := conn.SubscribeSync("flux.events")
	if err != nil {
		t.Fatal(err)
	}

	ns := env.Namespace(t)
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nats", Namespace: ns},
		StringData: map[string]string{"address": srv.ClientURL(), "username": "flux", "password": "n4ts-pa55"}}
	p := &v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "nats", Namespace: ns},
		Spec: v1beta3.ProviderSpec{Type: "nats", Channel: "flux.events", SecretRef: &meta.LocalObjectReference{Name: "nats"}}}
	a := &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: ns},
		Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "nats"},
			EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}}}}
	for _, o := range []client.Object{secret, p, a} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var got *nats.Msg
	testcluster.Eventually(t, 60*time.Second, "the event on subject flux.events", func() (bool, error) {
		postEvent(t, eventv1.Event{
			InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: ns, Name: "app"},
			Severity:       eventv1.EventSeverityError, Timestamp: metav1.Now(), Reason: "BuildFailed",
			Message: "build failed at " + time.Now().Format(time.RFC3339Nano), ReportingController: "kustomize-controller",
		})
		msg, err := sub.NextMsg(time.Second)
		if err != nil {
			return false, nil
		}
		got = msg
		return true, nil
	})
	if !strings.Contains(string(got.Data), `"name":"app"`) || !strings.Contains(string(got.Data), ns) {
		t.Errorf("the NATS message is not the event: %s", got.Data)
	}
}

// TestGooglePubSubProviderDelivers publishes through an https endpoint
// given as the Provider's address, with a service-account key whose
// token_uri is on the same server, trusted through certSecretRef: every
// part is the user's own setting, no test-only path.
func TestGooglePubSubProviderDelivers(t *testing.T) {
	ca := testca.New("pubsub test CA")
	var mu sync.Mutex
	var tokenAsked bool
	var published []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/token":
			tokenAsked = true
			_, _ = io.WriteString(w, `{"access_token":"ya29.bench","expires_in":3600,"token_type":"Bearer"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/projects/my-project/topics/flux-events:publish":
			if r.Header.Get("Authorization") != "Bearer ya29.bench" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			published = append(published, string(body))
			_, _ = io.WriteString(w, `{"messageIds":["1"]}`)
		default:
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server().TLSCertificate()}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "my-project", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "flux@my-project.iam.gserviceaccount.com", "token_uri": srv.URL + "/token",
	})
	if err != nil {
		t.Fatal(err)
	}

	ns := env.Namespace(t)
	ctx := context.Background()
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gcp", Namespace: ns}, Data: map[string][]byte{"token": sa}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ca", Namespace: ns}, Data: map[string][]byte{"ca.crt": ca.CertPEM}},
		&v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "pubsub", Namespace: ns},
			Spec: v1beta3.ProviderSpec{Type: "googlepubsub", Address: srv.URL + "/v1/projects/my-project", Channel: "flux-events",
				SecretRef: &meta.LocalObjectReference{Name: "gcp"}, CertSecretRef: &meta.LocalObjectReference{Name: "ca"}}},
		&v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "pubsub"},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}}}},
	}
	for _, o := range objs {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.Eventually(t, 60*time.Second, "a message published on flux-events", func() (bool, error) {
		mu.Lock()
		n := len(published)
		mu.Unlock()
		if n > 0 {
			return true, nil
		}
		postEvent(t, eventv1.Event{
			InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: ns, Name: "app"},
			Severity:       eventv1.EventSeverityError, Timestamp: metav1.Now(), Reason: "BuildFailed",
			Message: "build failed at " + time.Now().Format(time.RFC3339Nano), ReportingController: "kustomize-controller",
		})
		return false, nil
	})
	mu.Lock()
	defer mu.Unlock()
	if !tokenAsked {
		t.Error("the notifier published without exchanging the key for a token")
	}
	if !strings.Contains(published[0], `"messages"`) {
		t.Errorf("the publish request is not a Pub/Sub publish: %s", published[0])
	}
}

// TestAzureEventHubProviderDelivers sends to an Event Hubs gateway named
// by spec.channel (a host and port, as for the other Azure clouds) with an
// Azure AD token from the Secret, trusted through certSecretRef.
func TestAzureEventHubProviderDelivers(t *testing.T) {
	ca := testca.New("event hubs test CA")
	var mu sync.Mutex
	var sent []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/flux-events/messages" || r.Header.Get("Authorization") != "Bearer aad-t0ken" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
			return
		}
		mu.Lock()
		sent = append(sent, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server().TLSCertificate()}}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	ns := env.Namespace(t)
	ctx := context.Background()
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "aad", Namespace: ns}, StringData: map[string]string{"token": "aad-t0ken"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ca", Namespace: ns}, Data: map[string][]byte{"ca.crt": ca.CertPEM}},
		&v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: "hub", Namespace: ns},
			Spec: v1beta3.ProviderSpec{Type: "azureeventhub", Address: "flux-events", Channel: strings.TrimPrefix(srv.URL, "https://"),
				SecretRef: &meta.LocalObjectReference{Name: "aad"}, CertSecretRef: &meta.LocalObjectReference{Name: "ca"}}},
		&v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: "hub"},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: "*"}}}},
	}
	for _, o := range objs {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.Eventually(t, 60*time.Second, "a message sent to event hub flux-events", func() (bool, error) {
		mu.Lock()
		n := len(sent)
		mu.Unlock()
		if n > 0 {
			return true, nil
		}
		postEvent(t, eventv1.Event{
			InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: ns, Name: "app"},
			Severity:       eventv1.EventSeverityError, Timestamp: metav1.Now(), Reason: "BuildFailed",
			Message: "build failed at " + time.Now().Format(time.RFC3339Nano), ReportingController: "kustomize-controller",
		})
		return false, nil
	})
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(sent[0], `"involvedObject"`) {
		t.Errorf("the message is not the event: %s", sent[0])
	}
}
