package receiver_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

func genericReceiver(ns, name, secret string, resources ...notificationv1.ReceiverResource) *notificationv1.Receiver {
	if len(resources) == 0 {
		resources = []notificationv1.ReceiverResource{{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "GitRepository", Name: "app"}}}
	}
	return &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: notificationv1.ReceiverSpec{Type: "generic", SecretRef: &meta.LocalObjectReference{Name: secret},
			Resources: resources},
	}
}

func TestReceiverReadyWithItsPath(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "first-token")
	obj := createReceiver(t, genericReceiver(ns, "hook", "token"))
	got := controllertest.WaitReady(t, kube, obj)
	want := pathOf("first-token", "hook", ns)
	if got.Status.WebhookPath != want {
		t.Fatalf("webhookPath %q, want %q", got.Status.WebhookPath, want)
	}
	c := reconcile.Get(got, meta.ReadyCondition)
	if c.Reason != meta.SucceededReason || c.Message != "Receiver initialised for path: "+want {
		t.Fatalf("Ready %s: %q", c.Reason, c.Message)
	}
	controllertest.AssertKStatus(t, got)
	if strings.Contains(controllertest.Describe(got), "first-token") {
		t.Fatal("the token is in the Receiver's status")
	}
}

// A rotated token moves the path at once (Flux waits for the interval,
// 10 minutes): the Secret is watched.
func TestTokenRotationMovesThePath(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "old-token")
	obj := createReceiver(t, genericReceiver(ns, "hook", "token"))
	oldPath := ready(t, obj)

	controllertest.Patch(t, kube, secretObject(ns, "token"), `{"stringData":{"token":"new-token"}}`)
	newPath := pathOf("new-token", "hook", ns)
	controllertest.WaitFor(t, kube, keyOf(obj), "the new path", func(r *notificationv1.Receiver) bool {
		return r.Status.WebhookPath == newPath
	})
	controllertest.WaitFor(t, kube, keyOf(obj), "the path served", func(r *notificationv1.Receiver) bool {
		return post(t, addr, oldPath, []byte("{}")).code == 404
	})
	// Only now does the object exist: the new path alone annotates it.
	gitRepository(t, ns, "app", nil)
	expect(t, post(t, addr, newPath, []byte("{}")), 200, "accepted")
	waitAnnotated(t, ns, "app", "")
}

func TestTokenNotFound(t *testing.T) {
	ns := namespace(t, "")
	obj := createReceiver(t, genericReceiver(ns, "hook", "later"))
	got := controllertest.WaitNotReady(t, kube, obj, notificationv1.TokenNotFoundReason)
	if c := reconcile.Get(got, meta.ReadyCondition); !strings.Contains(c.Message, "'"+ns+"/later' not found") {
		t.Fatalf("message %q does not name the Secret", c.Message)
	}
	// A Secret without 'token' says so.
	tokenless := secretObject(ns, "later")
	tokenless.StringData = map[string]string{"other": "x"}
	if err := kube.Create(t.Context(), tokenless); err != nil {
		t.Fatal(err)
	}
	controllertest.WaitFor(t, kube, keyOf(obj), "no token key", func(r *notificationv1.Receiver) bool {
		c := reconcile.Get(r, meta.ReadyCondition)
		return c != nil && strings.Contains(c.Message, "has no 'token' key")
	})
	controllertest.Patch(t, kube, tokenless, `{"stringData":{"token":"now-here"}}`)
	if path := ready(t, obj); path != pathOf("now-here", "hook", ns) {
		t.Fatalf("path %q", path)
	}
}

func TestInvalidCELStalls(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	obj := genericReceiver(ns, "hook", "token")
	obj.Spec.ResourceFilter = "res.metadata.name =="
	createReceiver(t, obj)
	got := controllertest.WaitFor(t, kube, keyOf(obj), "Stalled", func(r *notificationv1.Receiver) bool {
		c := reconcile.Get(r, meta.StalledCondition)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	c := reconcile.Get(got, meta.StalledCondition)
	if c.Reason != meta.InvalidCELExpressionReason || !strings.Contains(c.Message, "spec.resourceFilter 'res.metadata.name =='") ||
		!strings.Contains(c.Message, "Syntax error") {
		t.Fatalf("Stalled %s: %q", c.Reason, c.Message)
	}
	// Fixing the expression recovers.
	controllertest.Patch(t, kube, got, `{"spec":{"resourceFilter":"res.metadata.name == 'app'"}}`)
	ready(t, obj)
}

// A gcr Receiver's Secret needs 'email' and 'audience' besides the token.
func TestGCRNeedsEmailAndAudience(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	obj := genericReceiver(ns, "hook", "token")
	obj.Spec.Type = "gcr"
	createReceiver(t, obj)
	got := controllertest.WaitNotReady(t, kube, obj, notificationv1.ValidationFailedReason)
	if c := reconcile.Get(got, meta.ReadyCondition); !strings.Contains(c.Message, "needs the 'email' and 'audience' keys") {
		t.Fatalf("message %q", c.Message)
	}
	controllertest.Patch(t, kube, secretObject(ns, "token"), `{"stringData":{"email":"pusher@proj.iam.gserviceaccount.com","audience":"https://flux.example"}}`)
	ready(t, obj)
}

// reconcile.fluxcd.io/requestedAt asks for a pass now, as `flux reconcile
// receiver` does; the pass records it.
func TestRequestedAtHonoured(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	obj := createReceiver(t, genericReceiver(ns, "hook", "token"))
	ready(t, obj)
	controllertest.RequestReconcile(t, kube, obj, "now-1")
	controllertest.WaitFor(t, kube, keyOf(obj), "lastHandledReconcileAt", func(r *notificationv1.Receiver) bool {
		return r.Status.LastHandledReconcileAt == "now-1"
	})
}

// name '*' without matchLabels would select every object of the kind: the
// Receiver stalls and says what to add.
func TestWildcardNeedsMatchLabels(t *testing.T) {
	ns := namespace(t, "")
	tokenSecret(t, ns, "token", "t")
	obj := genericReceiver(ns, "hook", "token", notificationv1.ReceiverResource{
		CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{Kind: "Kustomization", Name: "*"}})
	createReceiver(t, obj)
	got := controllertest.WaitNotReady(t, kube, obj, notificationv1.ValidationFailedReason)
	if c := reconcile.Get(got, meta.ReadyCondition); !strings.Contains(c.Message, "spec.resources[0]: name '*' needs matchLabels") {
		t.Fatalf("message %q", c.Message)
	}
}
