package notification_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The mission's examples live in flux-system, as written.
const fluxSystem = "flux-system"

// TestMissionSlackExample runs ../shared/mission/examples/07 as written:
// Kustomization and HelmRelease errors reach Slack once, info events do
// not, and a GitHub push to the Receiver fetches the new commit at once.
func TestMissionSlackExample(t *testing.T) {
	ensureNamespace(t, fluxSystem)
	slack := newFake(t)
	putSecret(t, fluxSystem, "slack-webhook", map[string]string{"address": slack.url + "/services/T0/B0/x"})
	putSecret(t, fluxSystem, "github-webhook-token", map[string]string{"token": "push-s3cret"})
	repo := appRepo(t)
	source := gitRepository(t, fluxSystem, "payments-config", repo, time.Minute)
	applyExample(t, "07-notifications-slack.yaml")

	// An info event (the first apply) is not sent: the Alert takes errors.
	ks := kustomization(t, fluxSystem, "ex07-app", "payments-config", "./deploy")
	controllertest.WaitReady(t, kube, ks)
	// An error, repeated by a second run, is sent once; a different error
	// of the same object is delivered after it, so when that one is there
	// the repeat had every chance to come first.
	controllertest.Patch(t, kube, ks, `{"spec":{"path":"./missing"}}`)
	first := slack.wait(t, "the first error", func(m slackMessage) bool {
		return m.Author == "kustomization/ex07-app.flux-system" && strings.Contains(m.Text, "missing")
	})
	runAgain(t, ks)
	controllertest.Patch(t, kube, ks, `{"spec":{"path":"./gone"}}`)
	slack.wait(t, "the second error", func(m slackMessage) bool {
		return m.Author == "kustomization/ex07-app.flux-system" && strings.Contains(m.Text, "gone")
	})
	got := slack.matching(func(m slackMessage) bool { return m.Author == "kustomization/ex07-app.flux-system" })
	if len(got) != 2 {
		t.Errorf("Slack got %d messages about the Kustomization; want the two errors once each:\n%s", len(got), slack.dump())
	}
	if first.Channel != "#flux-events" || first.Color != "danger" || first.Path != "/services/T0/B0/x" {
		t.Errorf("Slack message in %q, colour %q, at %q; want #flux-events, danger, the Secret's address", first.Channel, first.Color, first.Path)
	}

	// A HelmRelease error from another process, through the event endpoint.
	postEvent(t, eventv1.Event{
		InvolvedObject: corev1.ObjectReference{APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease",
			Namespace: fluxSystem, Name: "ingress-nginx"},
		Severity: eventv1.EventSeverityError, Timestamp: metav1.Now(), Reason: "InstallFailed",
		Message: "Helm install failed for release ingress-nginx/ingress-nginx: context deadline exceeded", ReportingController: "helm-controller",
	})
	slack.wait(t, "the HelmRelease error", func(m slackMessage) bool {
		return m.Author == "helmrelease/ingress-nginx.flux-system" && m.Color == "danger"
	})

	// The Receiver: a GitHub push makes payments-config fetch now, not at
	// its 1m interval; other events and forged signatures do nothing.
	hook := receiverURL(t, fluxSystem, "github-receiver")
	head := repo.CommitFiles("main", map[string]string{"deploy/cm.yaml": configMap("v2")}, "v2")
	push := []byte(`{"ref":"refs/heads/main","after":"` + head + `"}`)
	for _, tc := range []struct {
		what, event, secret string
		want                int
	}{
		{"a forged push", "push", "not-the-token", http.StatusBadRequest},
		{"an issues event", "issues", "push-s3cret", http.StatusBadRequest},
		{"a ping", "ping", "push-s3cret", http.StatusOK},
	} {
		if code := githubPost(t, hook, tc.event, tc.secret, push); code != tc.want {
			t.Errorf("%s: %d; want %d", tc.what, code, tc.want)
		}
		if tc.want != http.StatusOK {
			assertNotRequested(t, source)
		}
	}
	if code := githubPost(t, hook, "push", "push-s3cret", push); code != http.StatusOK {
		t.Fatalf("a genuine push: %d; want 200", code)
	}
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(source), "payments-config at the pushed commit, well before its 1m interval",
		func(g *sourcev1.GitRepository) bool {
			return g.Status.Artifact != nil && strings.HasSuffix(g.Status.Artifact.Revision, head)
		})
}

// TestMissionMoreNotificationsExample runs ../shared/mission/examples/09
// as written: errors to Slack and PagerDuty but staging ones to Slack
// only, GitRepository errors to Slack only, and the apps Kustomization's
// info events only when they mention reconciliation.
func TestMissionMoreNotificationsExample(t *testing.T) {
	ensureNamespace(t, fluxSystem)
	slack, pager := newFake(t), newFake(t)
	putSecret(t, fluxSystem, "pagerduty-token", map[string]string{"address": pager.url})
	applyExample(t, "09-notifications-more.yaml")
	// The example's Secret names Slack itself: point it at the fake.
	putSecret(t, fluxSystem, "slack-webhook", map[string]string{"address": slack.url})
	ours := func(m slackMessage) bool { return m.Channel == "#gitops-alerts" }

	repo := appRepo(t)
	gitRepository(t, fluxSystem, "ex09-source", repo, time.Hour)
	apps := kustomization(t, fluxSystem, "apps", "ex09-source", "./deploy")
	broken := kustomization(t, fluxSystem, "ex09-broken", "ex09-source", "./missing")
	second := kustomization(t, fluxSystem, "ex09-second", "ex09-source", "./staging")
	bad := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "ex09-unreachable", Namespace: fluxSystem},
		Spec:       sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/none.git", Interval: metav1.Duration{Duration: time.Hour}},
	}
	create(t, bad)

	// The apps Kustomization: its success event mentions reconciliation
	// and is sent; the one listing what it created is not.
	controllertest.WaitReady(t, kube, apps)
	slack.wait(t, "the apps success event", func(m slackMessage) bool {
		return ours(m) && m.Author == "kustomization/apps.flux-system" && strings.Contains(m.Text, "reconciliation finished")
	})
	for _, m := range slack.matching(func(m slackMessage) bool { return ours(m) && m.Author == "kustomization/apps.flux-system" }) {
		if !strings.Contains(m.Text, "reconciliation") {
			t.Errorf("an apps info event not matching .*reconciliation.* reached Slack: %q", m.Text)
		}
	}

	// A Kustomization error: Slack and PagerDuty.
	slack.wait(t, "ex09-broken's error at Slack", func(m slackMessage) bool {
		return ours(m) && m.Author == "kustomization/ex09-broken.flux-system" && m.Color == "danger"
	})
	trigger := pager.waitRaw(t, "ex09-broken's error at PagerDuty", func(r request) bool {
		return strings.Contains(r.Body, "ex09-broken")
	})
	var pd struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
	}
	if err := json.Unmarshal([]byte(trigger.Body), &pd); err != nil {
		t.Fatal(err)
	}
	if trigger.Path != "/v2/enqueue" || pd.RoutingKey != "ROUTING_KEY" || pd.EventAction != "trigger" || pd.DedupKey != string(broken.UID) {
		t.Errorf("PagerDuty got %s %+v; want a trigger to ROUTING_KEY at /v2/enqueue, deduplicated by the object's UID", trigger.Path, pd)
	}

	// An error mentioning staging: Slack only. The same object's next
	// error, which does not, goes to PagerDuty after it.
	slack.wait(t, "ex09-second's staging error at Slack", func(m slackMessage) bool {
		return ours(m) && m.Author == "kustomization/ex09-second.flux-system" && strings.Contains(m.Text, "staging")
	})
	controllertest.Patch(t, kube, second, `{"spec":{"path":"./elsewhere"}}`)
	pager.waitRaw(t, "ex09-second's next error at PagerDuty", func(r request) bool {
		return strings.Contains(r.Body, "ex09-second") && strings.Contains(r.Body, "elsewhere")
	})
	for _, r := range pager.raw() {
		if strings.Contains(r.Body, "staging") {
			t.Errorf("PagerDuty got an event mentioning staging: %s", r.Body)
		}
	}

	// A GitRepository error: Slack only.
	slack.wait(t, "the GitRepository error at Slack", func(m slackMessage) bool {
		return ours(m) && m.Author == "gitrepository/ex09-unreachable.flux-system" && m.Color == "danger"
	})
	for _, r := range pager.raw() {
		if strings.Contains(r.Body, "GitRepository") {
			t.Errorf("PagerDuty got a GitRepository event: %s", r.Body)
		}
	}
}

// TestMissionEventDrivenExample applies ../shared/mission/examples/10: the
// Receiver's resource has no apiVersion, and a push still annotates the
// GitRepository myapp.
func TestMissionEventDrivenExample(t *testing.T) {
	ensureNamespace(t, fluxSystem)
	putSecret(t, fluxSystem, "webhook-token", map[string]string{"token": "event-driven"})
	myapp := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "myapp", Namespace: fluxSystem},
		Spec: sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/myapp.git", Interval: metav1.Duration{Duration: time.Hour},
			Suspend: true},
	}
	create(t, myapp)
	applyExample(t, "10-event-driven-objects.yaml")
	hook := receiverURL(t, fluxSystem, "github-webhook")
	if code := githubPost(t, hook, "push", "event-driven", []byte(`{"ref":"refs/heads/main"}`)); code != http.StatusOK {
		t.Fatalf("a genuine push: %d; want 200", code)
	}
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(myapp), "myapp annotated by the Receiver",
		func(g *sourcev1.GitRepository) bool { return g.Annotations[meta.ReconcileRequestAnnotation] != "" })
}

// slackMessage is what a Slack webhook fake keeps of a post.
type slackMessage struct {
	Path, Channel, Color, Author, Text string
}

type request struct{ Path, Body string }

// fake is a webhook service that keeps every request.
type fake struct {
	url  string
	mu   sync.Mutex
	reqs []request
}

func newFake(t *testing.T) *fake {
	f := &fake{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, request{Path: r.URL.Path, Body: string(body)})
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fake) raw() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// messages are the posts read as Slack's payload.
func (f *fake) messages() []slackMessage {
	var out []slackMessage
	for _, r := range f.raw() {
		var p struct {
			Channel     string `json:"channel"`
			Attachments []struct {
				Color  string `json:"color"`
				Author string `json:"author_name"`
				Text   string `json:"text"`
			} `json:"attachments"`
		}
		if json.Unmarshal([]byte(r.Body), &p) != nil || len(p.Attachments) != 1 {
			continue
		}
		a := p.Attachments[0]
		out = append(out, slackMessage{Path: r.Path, Channel: p.Channel, Color: a.Color, Author: a.Author, Text: a.Text})
	}
	return out
}

func (f *fake) matching(keep func(slackMessage) bool) []slackMessage {
	var out []slackMessage
	for _, m := range f.messages() {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

func (f *fake) dump() string {
	var b strings.Builder
	for _, r := range f.raw() {
		fmt.Fprintf(&b, "%s %s\n", r.Path, r.Body)
	}
	return b.String()
}

func (f *fake) wait(t *testing.T, what string, match func(slackMessage) bool) slackMessage {
	t.Helper()
	var got slackMessage
	err := testcluster.Poll(60*time.Second, func() (bool, error) {
		ms := f.matching(match)
		if len(ms) > 0 {
			got = ms[0]
		}
		return len(ms) > 0, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; the fake got:\n%s", what, err, f.dump())
	}
	return got
}

func (f *fake) waitRaw(t *testing.T, what string, match func(request) bool) request {
	t.Helper()
	var got request
	err := testcluster.Poll(60*time.Second, func() (bool, error) {
		for _, r := range f.raw() {
			if match(r) {
				got = r
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; the fake got:\n%s", what, err, f.dump())
	}
	return got
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := kube.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.Delete(context.Background(), obj) })
}

// putSecret creates or replaces a Secret's data.
func putSecret(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	ctx := context.Background()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	err := kube.Get(ctx, client.ObjectKeyFromObject(s), s)
	s.Data, s.StringData = nil, data
	switch {
	case apierrors.IsNotFound(err):
		err = kube.Create(ctx, s)
	case err == nil:
		err = kube.Update(ctx, s)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// applyExample creates every object of a mission example, in flux-system
// where it names no namespace; objects that exist are left as they are.
func applyExample(t *testing.T, name string) {
	t.Helper()
	data := testcluster.ReadRepoFile(t, "config/testdata/mission-examples/"+name)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetNamespace() == "" {
			u.SetNamespace(fluxSystem)
		}
		if err := kube.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func configMap(v string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ex-config}\ndata: {version: " + v + "}\n"
}

// appRepo is a repository with one ConfigMap under deploy/.
func appRepo(t *testing.T) *gittest.Repo {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", map[string]string{"deploy/cm.yaml": configMap("v1")}, "v1")
	return repo
}

// gitRepository serves repo and makes a GitRepository of its main branch,
// waiting until it is Ready.
func gitRepository(t *testing.T, ns, name string, repo *gittest.Repo, interval time.Duration) *sourcev1.GitRepository {
	t.Helper()
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	gr := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: interval},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	create(t, gr)
	return controllertest.WaitReady(t, kube, gr)
}

func kustomization(t *testing.T, ns, name, source, path string) *kustomizev1.Kustomization {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Path: path, Prune: true,
			TargetNamespace: ns, SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: source}},
	}
	create(t, ks)
	return ks
}

// runAgain asks the Kustomization to reconcile now and waits until it has.
func runAgain(t *testing.T, ks *kustomizev1.Kustomization) {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	controllertest.RequestReconcile(t, kube, ks, token)
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(ks), "a second run of "+ks.Name,
		func(k *kustomizev1.Kustomization) bool { return k.Status.LastHandledReconcileAt == token })
}

func postEvent(t *testing.T, e eventv1.Event) {
	t.Helper()
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+ingestAddr+"/", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("posting an event: %s", resp.Status)
	}
}

// receiverURL waits for the Receiver to be Ready and returns its webhook.
func receiverURL(t *testing.T, ns, name string) string {
	t.Helper()
	r := controllertest.WaitReady(t, kube, &notificationv1.Receiver{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
	return "http://" + receiverAddr + r.Status.WebhookPath
}

// githubPost posts body as GitHub does, signed with secret.
func githubPost(t *testing.T, url, event, secret string, body []byte) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("%d", time.Now().UnixNano()))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// assertNotRequested fails if something asked the object to reconcile.
func assertNotRequested(t *testing.T, obj client.Object) {
	t.Helper()
	got := &sourcev1.GitRepository{}
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatal(err)
	}
	if v := got.Annotations[meta.ReconcileRequestAnnotation]; v != "" {
		t.Errorf("%s was asked to reconcile (%s=%q) by a request the Receiver should refuse", obj.GetName(), meta.ReconcileRequestAnnotation, v)
	}
}
