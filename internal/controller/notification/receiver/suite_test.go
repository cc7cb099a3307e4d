package receiver_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/controller/notification/receiver"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// lockdownLabel puts a Receiver under the second manager, the one started
// with --no-cross-namespace-refs.
const lockdownLabel = "driftless.test/lockdown"

var (
	env  *testcluster.Cluster
	kube client.Client
	// addr and lockedAddr are the two webhook servers' addresses.
	addr, lockedAddr string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: start}, &env)
}

// start runs the Receiver controller and server twice, as the integrator
// wires them into the notification group: once as by default, once with
// --no-cross-namespace-refs for the Receivers labelled lockdownLabel.
func start(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	if addr, err = freeAddr(); err != nil {
		return nil, err
	}
	if lockedAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	stop1, err := controllertest.StartControllers(c, []manager.Controller{group(receiver.Options{Addr: addr})}, func(o *manager.Options) {
		o.WatchLabelSelector = lockdownLabel + "!=true"
	})
	if err != nil {
		return nil, err
	}
	// The lockdown comes from the manager's shared flag.
	stop2, err := controllertest.StartControllers(c, []manager.Controller{group(receiver.Options{Addr: lockedAddr})}, func(o *manager.Options) {
		o.NoCrossNamespaceRefs = true
		o.WatchLabelSelector = lockdownLabel + "=true"
		o.LeaderElectionID = "driftless-test-lockdown"
	})
	if err != nil {
		stop1()
		return nil, err
	}
	return func() { stop2(); stop1() }, nil
}

func group(o receiver.Options) manager.Controller {
	return manager.Controller{
		Name:    "notification",
		Objects: []client.Object{&notificationv1.Receiver{}},
		Setup:   func(mgr ctrl.Manager, deps manager.Deps) error { return receiver.Setup(mgr, deps, o) },
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// namespace makes a namespace for one test; "" makes a fresh one.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if name == "" {
		ns.GenerateName = "receiver-"
	}
	if err := kube.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

func tokenSecret(t *testing.T, ns, name, token string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: map[string]string{"token": token}}
	if err := kube.Create(context.Background(), s); err != nil {
		t.Fatalf("create Secret %s: %v", name, err)
	}
}

func gitRepository(t *testing.T, ns, name string, labels map[string]string) *sourcev1.GitRepository {
	t.Helper()
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:       sourcev1.GitRepositorySpec{URL: "https://example.com/org/" + name, Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := kube.Create(context.Background(), repo); err != nil {
		t.Fatalf("create GitRepository %s: %v", name, err)
	}
	return repo
}

func createReceiver(t *testing.T, obj *notificationv1.Receiver) *notificationv1.Receiver {
	t.Helper()
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create Receiver: %v", err)
	}
	return obj
}

// ready waits for the Receiver to be Ready and returns its path.
func ready(t *testing.T, obj *notificationv1.Receiver) string {
	t.Helper()
	got := controllertest.WaitReady(t, kube, obj)
	return got.Status.WebhookPath
}

// applyYAML creates the objects of a multi-document manifest and returns
// them decoded as Receivers where they are Receivers.
func receiversOf(t *testing.T, manifest []byte) []*notificationv1.Receiver {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var out []*notificationv1.Receiver
	for {
		var r notificationv1.Receiver
		if err := dec.Decode(&r); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("decode example: %v", err)
		}
		if r.Kind == notificationv1.ReceiverKind {
			out = append(out, &r)
		}
	}
}

type response struct {
	code       int
	body       string
	retryAfter string
}

func post(t *testing.T, server, path string, body []byte, kv ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+server+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
}

func sign256(token string, body []byte) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// requestedAt is the reconcile request annotation of a GitRepository now.
func requestedAt(t *testing.T, ns, name string) string {
	t.Helper()
	var repo sourcev1.GitRepository
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &repo); err != nil {
		t.Fatal(err)
	}
	return repo.Annotations[meta.ReconcileRequestAnnotation]
}

// waitAnnotated waits until the GitRepository's request annotation is set
// and differs from before.
func waitAnnotated(t *testing.T, ns, name, before string) string {
	t.Helper()
	got := controllertest.WaitFor(t, kube, client.ObjectKey{Namespace: ns, Name: name}, "a reconcile request", func(r *sourcev1.GitRepository) bool {
		v := r.Annotations[meta.ReconcileRequestAnnotation]
		return v != "" && v != before
	})
	return got.Annotations[meta.ReconcileRequestAnnotation]
}

func expect(t *testing.T, got response, code int, text string) {
	t.Helper()
	if got.code != code || !strings.Contains(got.body, text) {
		t.Fatalf("answer %d %q, want %d with %q", got.code, strings.TrimSpace(got.body), code, text)
	}
}

func pathOf(token, name, ns string) string {
	return fmt.Sprintf("/hook/%x", sha256.Sum256([]byte(token+name+ns)))
}

func secretObject(ns, name string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

func keyOf(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }

func controllertestPatch(t *testing.T, obj client.Object, patch string) {
	t.Helper()
	controllertest.Patch(t, kube, obj, patch)
}

// waitUntil polls cond within the kit's timeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := testcluster.Poll(controllertest.Timeout, func() (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// postSeen posts until the server's cache has caught up with the
// Receiver's Ready status (until it answers other than 404 or 503, which
// annotate nothing) and returns that answer.
func postSeen(t *testing.T, server, path string, body []byte, kv ...string) response {
	t.Helper()
	var got response
	waitUntil(t, "the server to know the Receiver", func() bool {
		got = post(t, server, path, body, kv...)
		return got.code != 404 && got.code != 503
	})
	return got
}

// removeAfter deletes objs at the end of the test and waits until they
// are gone: tests sharing a namespace (the examples' flux-system) can run
// again.
func removeAfter(t *testing.T, objs ...client.Object) {
	t.Cleanup(func() {
		for _, o := range objs {
			if err := kube.Delete(context.Background(), o); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete %s: %v", o.GetName(), err)
			}
		}
		for _, o := range objs {
			waitUntil(t, o.GetName()+" deleted", func() bool {
				return apierrors.IsNotFound(kube.Get(context.Background(), client.ObjectKeyFromObject(o), o))
			})
		}
	})
}
