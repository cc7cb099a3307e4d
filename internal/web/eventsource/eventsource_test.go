package eventsource

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/kinds"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func event(name, kind, ns, obj, msg string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: obj},
		Type:           corev1.EventTypeNormal, Reason: "Test", Message: msg, LastTimestamp: metav1.NewTime(at),
	}
}

var broken = kinds.Ref{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: "apps", Name: "broken"}

// The fake clientset ignores field selectors: what comes back is only the
// object's events all the same, and the selector is what the API server
// is sent.
func TestListSendsTheSelectorAndFiltersToo(t *testing.T) {
	cs := fake.NewClientset(
		event("a", "Kustomization", "apps", "broken", "mine", t0),
		event("b", "Kustomization", "apps", "other", "another object's", t0),
		event("c", "HelmRelease", "apps", "broken", "another kind's", t0),
		event("d", "Kustomization", "flux-system", "broken", "another namespace's", t0),
	)
	got, err := New(cs).List(context.Background(), broken)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Message != "mine" {
		t.Errorf("List = %+v, want only the event about Kustomization apps/broken", got)
	}
	var fields string
	for _, a := range cs.Actions() {
		if l, ok := a.(k8stesting.ListAction); ok && a.GetResource().Resource == "events" {
			fields = l.GetListRestrictions().Fields.String()
			if a.GetNamespace() != "apps" {
				t.Errorf("listed in namespace %q, want apps", a.GetNamespace())
			}
		}
	}
	want := "involvedObject.kind=Kustomization,involvedObject.name=broken,involvedObject.namespace=apps"
	if fields != want {
		t.Errorf("field selector sent %q, want %q", fields, want)
	}
}

func TestWatchSendsTheSelectorAndFiltersToo(t *testing.T) {
	cs := fake.NewClientset(event("old", "Kustomization", "apps", "broken", "existing", t0))
	w, err := New(cs).Watch(context.Background(), broken)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx := context.Background()
	if _, err := cs.CoreV1().Events("apps").Create(ctx, event("x", "Kustomization", "apps", "other", "another object's", t0), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Events("apps").Create(ctx, event("y", "Kustomization", "apps", "broken", "new", t0), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Added {
				t.Fatalf("watch event %s, want Added", ev.Type)
			}
			got = append(got, ev.Object.(*corev1.Event).Message)
		case <-timeout:
			t.Fatalf("the watch sent %v, want the existing event and the new one", got)
		}
	}
	if !reflect.DeepEqual(got, []string{"existing", "new"}) {
		t.Errorf("watch sent %v, want [existing new]: never another object's", got)
	}
	for _, a := range cs.Actions() {
		if wa, ok := a.(k8stesting.WatchAction); ok {
			want := "involvedObject.kind=Kustomization,involvedObject.name=broken,involvedObject.namespace=apps"
			if f := wa.GetWatchRestrictions().Fields.String(); f != want {
				t.Errorf("watch field selector %q, want %q", f, want)
			}
		}
	}
}

func TestSortNewestFirst(t *testing.T) {
	evs := []corev1.Event{
		*event("b", "K", "ns", "o", "1h ago", t0.Add(-time.Hour)),
		*event("a", "K", "ns", "o", "now, written second", t0),
		*event("c", "K", "ns", "o", "2h ago (eventTime only)", time.Time{}),
		*event("d", "K", "ns", "o", "now, written first", t0),
	}
	evs[2].EventTime = metav1.NewMicroTime(t0.Add(-2 * time.Hour))
	evs[1].ResourceVersion, evs[3].ResourceVersion = "20", "10"
	SortNewestFirst(evs)
	var got []string
	for _, e := range evs {
		got = append(got, e.Message)
	}
	want := []string{"now, written second", "now, written first", "1h ago", "2h ago (eventTime only)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

func TestInvolved(t *testing.T) {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "broken"},
		Spec: kustomizev1.KustomizationSpec{SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "fleet", Namespace: "flux-system"}}}
	got := Involved(kinds.Kustomization(), ks)
	want := []kinds.Ref{broken, {APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Namespace: "flux-system", Name: "fleet"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Involved(Kustomization) = %+v, want %+v", got, want)
	}
	// A HelmRelease without a chart template's source names nothing more
	// than itself.
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "podinfo"}}
	if got := Involved(kinds.HelmRelease(), hr); len(got) != 1 || got[0].Name != "podinfo" {
		t.Errorf("Involved(HelmRelease without a source) = %+v, want only itself", got)
	}
}
