package notification_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/notification"
	"github.com/driftless/driftless/internal/controller/notification/ingest"
	"github.com/driftless/driftless/internal/controller/notification/receiver"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env  *testcluster.Cluster
	kube client.Client
	// ingestAddr is the group's event endpoint, --events-listen-addr, and
	// receiverAddr its webhook server, --receiver-addr.
	ingestAddr, receiverAddr string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: start}, &env)
}

// start runs the source, kustomize and notification groups in one
// manager, as driftless-controller does by default: the other groups'
// events reach the dispatcher through the in-process relay.
func start(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	if ingestAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if receiverAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	group := notification.New(notification.Options{
		Ingest:            ingest.Options{ListenAddr: ingestAddr},
		Receiver:          receiver.Options{Addr: receiverAddr},
		RateLimitInterval: 5 * time.Minute,
	})
	stop, err := controllertest.StartControllers(c, []manager.Controller{source.Controller(), kustomize.Controller(), group}, nil)
	if err != nil {
		return nil, err
	}
	// The endpoint and the webhook server start with the manager.
	for _, a := range []string{ingestAddr, receiverAddr} {
		if err := testcluster.Poll(30*time.Second, func() (bool, error) {
			conn, err := net.Dial("tcp", a)
			if err != nil {
				return false, nil
			}
			return true, conn.Close()
		}); err != nil {
			stop()
			return nil, fmt.Errorf("listening on %s: %w", a, err)
		}
	}
	return stop, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// inbox is a generic webhook that keeps the events posted to it.
type inbox struct {
	mu     sync.Mutex
	events []eventv1.Event
	url    string
}

func newInbox(t *testing.T) *inbox {
	in := &inbox{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e eventv1.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			t.Errorf("the provider posted a body that is not an event: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in.mu.Lock()
		in.events = append(in.events, e)
		in.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	in.url = srv.URL
	return in
}

// find returns the first event about kind/name in ns, if one came.
func (in *inbox) find(kind, ns, name string) (eventv1.Event, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range in.events {
		o := e.InvolvedObject
		if o.Kind == kind && o.Namespace == ns && o.Name == name {
			return e, true
		}
	}
	return eventv1.Event{}, false
}

func (in *inbox) wait(t *testing.T, kind, ns, name string) eventv1.Event {
	t.Helper()
	var got eventv1.Event
	testcluster.Eventually(t, 60*time.Second, "an event about "+kind+"/"+ns+"/"+name+" at the provider", func() (bool, error) {
		e, ok := in.find(kind, ns, name)
		got = e
		return ok, nil
	})
	return got
}

// alertTo makes, in ns, a generic Provider posting to url and an Alert
// sending it the events of sources at severity.
func alertTo(t *testing.T, ns, url, severity string, sources ...notificationv1.CrossNamespaceObjectReference) {
	t.Helper()
	ctx := context.Background()
	p := &v1beta3.Provider{
		ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: ns},
		Spec:       v1beta3.ProviderSpec{Type: "generic", Address: url},
	}
	a := &v1beta3.Alert{
		ObjectMeta: metav1.ObjectMeta{Name: "alert", Namespace: ns},
		Spec: v1beta3.AlertSpec{
			ProviderRef:   meta.LocalObjectReference{Name: "hook"},
			EventSeverity: severity,
			EventSources:  sources,
			EventMetadata: map[string]string{"cluster": "staging"},
		},
	}
	for _, o := range []client.Object{p, a} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// failingRepo makes a GitRepository whose fetch fails at once (nothing
// listens on its port) and waits for the controller's warning event.
func failingRepo(t *testing.T, ns, name string) *sourcev1.GitRepository {
	t.Helper()
	gr := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/nothing.git",
			Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(context.Background(), gr); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitEvent(t, env.Kube, gr, corev1.EventTypeWarning, "GitOperationFailed", "failed to checkout")
	return gr
}

// TestControllerEventsReachTheProvider follows an event from the source
// controller, through the in-process relay and an Alert, to a generic
// webhook; an object outside the Alert's sources sends nothing.
func TestControllerEventsReachTheProvider(t *testing.T) {
	ns, other := env.Namespace(t), env.Namespace(t)
	hook := newInbox(t)
	alertTo(t, ns, hook.url, "error", notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "*"})

	// Not selected: another namespace's repository, made and failed first.
	failingRepo(t, other, "elsewhere")
	failingRepo(t, ns, "app")

	e := hook.wait(t, "GitRepository", ns, "app")
	if e.Severity != eventv1.EventSeverityError || e.Reason != "GitOperationFailed" || e.ReportingController != "source-controller" {
		t.Errorf("event = severity %q, reason %q, from %q; want error GitOperationFailed from source-controller", e.Severity, e.Reason, e.ReportingController)
	}
	if !strings.Contains(e.Message, "failed to checkout") {
		t.Errorf("message = %q; want the controller's", e.Message)
	}
	if e.Metadata["cluster"] != "staging" {
		t.Errorf("metadata = %v; want the Alert's eventMetadata cluster=staging", e.Metadata)
	}
	if got, ok := hook.find("GitRepository", other, "elsewhere"); ok {
		t.Errorf("an event of another namespace reached the Alert's provider: %+v", got)
	}
}

// TestIngestedEventsReachTheProvider posts an event as another process
// (or Flux's own controllers) would, to --events-listen-addr.
func TestIngestedEventsReachTheProvider(t *testing.T) {
	ns := env.Namespace(t)
	hook := newInbox(t)
	alertTo(t, ns, hook.url, "info", notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "apps"})
	// The dispatcher reads Alerts from the cache: wait until the Alert is there.
	post := func(body []byte) (int, string) {
		resp, err := http.Post("http://"+ingestAddr+"/", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(msg)
	}

	if code, msg := post([]byte(`{"involvedObject": `)); code != http.StatusBadRequest {
		t.Errorf("a cut-off body got %d %q; want 400", code, msg)
	}

	ev := eventv1.Event{
		InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Namespace: ns, Name: "apps",
			APIVersion: "kustomize.toolkit.fluxcd.io/v1"},
		Severity: eventv1.EventSeverityInfo, Timestamp: metav1.Now(), Reason: "ReconciliationSucceeded",
		Message: "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567",
		Metadata: map[string]string{
			"kustomize.toolkit.fluxcd.io/revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
			"kustomize.toolkit.fluxcd.io/token":    "rate-limit-discriminator",
			"helm.toolkit.fluxcd.io/revision":      "another group's key",
			"revision":                             "no group",
		},
		ReportingController: "kustomize-controller",
	}
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	// The Alert may not be in the dispatcher's cache yet: post until it
	// delivers, changing the message so the rate limit lets each through.
	testcluster.Eventually(t, 60*time.Second, "the posted event at the provider", func() (bool, error) {
		if _, ok := hook.find("Kustomization", ns, "apps"); ok {
			return true, nil
		}
		ev.Timestamp = metav1.Now()
		ev.Message = "Applied revision at " + time.Now().Format(time.RFC3339Nano)
		body, _ = json.Marshal(ev)
		if code, msg := post(body); code != http.StatusAccepted {
			t.Fatalf("a valid event got %d %q; want 202", code, msg)
		}
		return false, nil
	})
	// Only the object's group's keys go out, less the internal token, with
	// the Alert's eventMetadata.
	e, _ := hook.find("Kustomization", ns, "apps")
	want := map[string]string{
		"kustomize.toolkit.fluxcd.io/revision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
		"cluster":                              "staging",
	}
	if !maps.Equal(e.Metadata, want) {
		t.Errorf("metadata = %v; want %v", e.Metadata, want)
	}
}

// TestAlertToOwnReceiver sends events through a generic-hmac Provider to
// Driftless's own generic-hmac Receiver: the signature is checked end to
// end, a Provider with the wrong key is refused (and its Alert says so),
// and the right one makes the Receiver request a reconcile.
func TestAlertToOwnReceiver(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	target := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "target", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/target.git", Interval: metav1.Duration{Duration: time.Hour}, Suspend: true}}
	rcv := &notificationv1.Receiver{ObjectMeta: metav1.ObjectMeta{Name: "from-alerts", Namespace: ns},
		Spec: notificationv1.ReceiverSpec{Type: notificationv1.GenericHMACReceiver, SecretRef: &meta.LocalObjectReference{Name: "shared"},
			Resources: []notificationv1.ReceiverResource{{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "target"}}}}}
	for _, o := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns}, StringData: map[string]string{"token": "shared-s3cret"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "forged", Namespace: ns}, StringData: map[string]string{"token": "not-the-s3cret"}},
		target, rcv,
	} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	hook := receiverURL(t, ns, "from-alerts")
	send := func(name, secret, kustomization string) *v1beta3.Alert {
		t.Helper()
		p := &v1beta3.Provider{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1beta3.ProviderSpec{Type: "generic-hmac", Address: hook, SecretRef: &meta.LocalObjectReference{Name: secret}}}
		a := &v1beta3.Alert{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1beta3.AlertSpec{ProviderRef: meta.LocalObjectReference{Name: name},
				EventSources: []notificationv1.CrossNamespaceObjectReference{{Kind: "Kustomization", Name: kustomization}}}}
		for _, o := range []client.Object{p, a} {
			if err := kube.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		return a
	}
	event := func(kustomization string) eventv1.Event {
		return eventv1.Event{
			InvolvedObject: corev1.ObjectReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: ns, Name: kustomization},
			Severity:       eventv1.EventSeverityInfo, Timestamp: metav1.Now(), Reason: "ReconciliationSucceeded",
			Message: "Applied revision at " + time.Now().Format(time.RFC3339Nano), ReportingController: "kustomize-controller",
		}
	}
	requested := func() string {
		got := &sourcev1.GitRepository{}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(target), got); err != nil {
			t.Fatal(err)
		}
		return got.Annotations[meta.ReconcileRequestAnnotation]
	}

	// The wrong key: the Receiver answers 400, a final failure the Alert
	// reports, and nothing is requested.
	forged := send("forged", "forged", "forged-app")
	testcluster.Eventually(t, 60*time.Second, "the forged Alert's NotificationDispatchFailed", func() (bool, error) {
		for _, e := range controllertest.Events(t, env.Kube, forged) {
			// 400 is the Receiver refusing the signature (a 404 would be
			// its cache not knowing the path yet).
			if e.Type == corev1.EventTypeWarning && e.Reason == "NotificationDispatchFailed" && strings.Contains(e.Message, "400") {
				if strings.Contains(e.Message, "shared-s3cret") || strings.Contains(e.Message, "not-the-s3cret") {
					return false, fmt.Errorf("the event shows a token: %s", e.Message)
				}
				return true, nil
			}
		}
		postEvent(t, event("forged-app"))
		return false, nil
	})
	if v := requested(); v != "" {
		t.Fatalf("a notification signed with the wrong key made the Receiver request a reconcile (%q)", v)
	}

	// The right key: the Receiver checks the signature and requests one.
	send("signed", "shared", "app")
	testcluster.Eventually(t, 60*time.Second, "the Receiver's reconcile request on the GitRepository", func() (bool, error) {
		if requested() != "" {
			return true, nil
		}
		postEvent(t, event("app"))
		return false, nil
	})
}
