package controllertest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// Timeout bounds every wait of the kit: long enough for a controller on a
// busy two-core machine, short enough that a stuck test says so.
const Timeout = 90 * time.Second

// Object is a Driftless kind as the reconcile skeleton sees it.
type Object interface {
	client.Object
	meta.Object
}

// WaitFor polls the object at key until cond holds and returns it as it
// then was. On timeout it fails the test with what it waited for and the
// last state it saw: conditions first, then the rest of the status.
func WaitFor[T client.Object](t testing.TB, c client.Client, key client.ObjectKey, what string, cond func(T) bool) T {
	t.Helper()
	got := newObject[T]()
	err := testcluster.Poll(Timeout, func() (bool, error) {
		if err := c.Get(context.Background(), key, got); err != nil {
			return false, err
		}
		return cond(got), nil
	})
	if err != nil {
		t.Fatalf("%T %s: waiting for %s: %v\n%s", got, key, what, err, Describe(got))
	}
	return got
}

// WaitReady waits for Ready=True at the object's current generation and
// checks that the status follows kstatus. obj names the object (its kind,
// namespace and name); its content is not read.
func WaitReady[T Object](t testing.TB, c client.Client, obj T) T {
	t.Helper()
	got := WaitFor(t, c, client.ObjectKeyFromObject(obj), "Ready=True", func(o T) bool {
		return reconcile.IsTrue(o, meta.ReadyCondition) && o.GetObservedGeneration() == o.GetGeneration()
	})
	AssertKStatus(t, got)
	return got
}

// WaitNotReady waits for Ready=False with the reason and checks that the
// status follows kstatus. A stalled object is taken only once its status
// speaks of its current generation.
func WaitNotReady[T Object](t testing.TB, c client.Client, obj T, reason string) T {
	t.Helper()
	got := WaitFor(t, c, client.ObjectKeyFromObject(obj), "Ready=False "+reason, func(o T) bool {
		r := reconcile.Get(o, meta.ReadyCondition)
		return r != nil && r.Status == metav1.ConditionFalse && r.Reason == reason &&
			(!reconcile.IsTrue(o, meta.StalledCondition) || o.GetObservedGeneration() == o.GetGeneration())
	})
	AssertKStatus(t, got)
	return got
}

// Describe is the object's conditions, one a line, then the rest of its
// status as JSON: the state a failed wait reports.
func Describe(obj client.Object) string {
	var b strings.Builder
	if o, ok := obj.(meta.Conditioned); ok {
		for _, c := range o.GetConditions() {
			fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if status, ok := u["status"].(map[string]any); err == nil && ok {
		delete(status, "conditions")
		if j, err := json.Marshal(status); err == nil && len(status) > 0 {
			fmt.Fprintf(&b, "  status: %s\n", j)
		}
	}
	return b.String()
}

// Update gets the object, lets mutate change it and updates it, again on a
// conflict with a controller writing the same object.
func Update[T client.Object](t testing.TB, c client.Client, obj T, mutate func(T)) {
	t.Helper()
	err := testcluster.Poll(10*time.Second, func() (bool, error) {
		cur := newObject[T]()
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), cur); err != nil {
			return false, err
		}
		mutate(cur)
		if err := c.Update(context.Background(), cur); err != nil {
			return false, err
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("update %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// Patch applies a JSON merge patch to the object; obj itself is left as
// it is.
func Patch(t testing.TB, c client.Client, obj client.Object, mergePatch string) {
	t.Helper()
	cp := obj.DeepCopyObject().(client.Object)
	if err := c.Patch(context.Background(), cp, client.RawPatch(types.MergePatchType, []byte(mergePatch))); err != nil {
		t.Fatalf("patch %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
}

// RequestReconcile asks for a reconciliation now, as `flux reconcile` does:
// it sets the reconcile.fluxcd.io/requestedAt annotation to value.
func RequestReconcile(t testing.TB, c client.Client, obj client.Object, value string) {
	t.Helper()
	Patch(t, c, obj, fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, meta.ReconcileRequestAnnotation, value))
}

// Events lists the events about the object (by namespace and name).
func Events(t testing.TB, kube kubernetes.Interface, obj client.Object) []corev1.Event {
	t.Helper()
	list, err := kube.CoreV1().Events(obj.GetNamespace()).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + obj.GetName(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// WaitEvent waits for an event about the object of the type whose message
// contains text and, unless reason is "", with that reason.
func WaitEvent(t testing.TB, kube kubernetes.Interface, obj client.Object, eventType, reason, text string) {
	t.Helper()
	testcluster.Eventually(t, 30*time.Second, fmt.Sprintf("%s event %s %q", eventType, reason, text), func() (bool, error) {
		for _, e := range Events(t, kube, obj) {
			if e.Type == eventType && (reason == "" || e.Reason == reason) && strings.Contains(e.Message, text) {
				return true, nil
			}
		}
		return false, nil
	})
}

// newObject is an empty object of the pointer type T.
func newObject[T client.Object]() T {
	return reflect.New(reflect.TypeFor[T]().Elem()).Interface().(T)
}
