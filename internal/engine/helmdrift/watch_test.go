package helmdrift_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/driftless/driftless/internal/engine/helmdrift"
)

const originLabel = "helm.toolkit.fluxcd.io/name"

// recv is the next edit the watcher reported, within 30 s.
func recv(t *testing.T, edits <-chan helmdrift.Edit) helmdrift.Edit {
	t.Helper()
	select {
	case e := <-edits:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no edit reported within 30s")
		return helmdrift.Edit{}
	}
}

// The watcher reports what someone else does to a labelled object, and
// not what helm-controller itself writes (an upgrade, a correction), nor
// the initial listing, nor objects without the label. Each check is
// ordered by a later edit the watcher must report: one informer delivers
// one kind's events in order, so an edit reported in the wrong place would
// come first.
func TestWatcherReportsOthersEditsOnly(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	cms := env.Kube.CoreV1().ConfigMaps(ns)
	labelled := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{originLabel: "app"}},
			Data: map[string]string{"k": "v"}}
	}
	// Before the watch: only in the initial listing.
	if _, err := cms.Create(ctx, labelled("before"), metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	edits := make(chan helmdrift.Edit, 100)
	w := helmdrift.NewWatcher(env.Dynamic, func(e helmdrift.Edit) { edits <- e }, helmdrift.WatcherOptions{Selector: originLabel})
	w.Set("a", []helmdrift.Resource{{GVR: configMaps, Namespace: ns}})
	w.Set("b", []helmdrift.Resource{{GVR: configMaps, Namespace: ns}})
	if n := w.Informers(); n != 1 {
		t.Errorf("two releases of one kind run %d informers, want 1", n)
	}
	defer w.Set("a", nil)
	defer w.Set("b", nil)

	// helm-controller's own create and apply are not reported; the
	// unlabelled object neither; the marker, created afterwards, is.
	own := labelled("own")
	if _, err := cms.Create(ctx, own, metav1.CreateOptions{FieldManager: helmdrift.FieldManager}); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"own","labels":{"` + originLabel + `":"app"}},"data":{"k":"applied"}}`)
	force := true
	if _, err := cms.Patch(ctx, "own", types.ApplyPatchType, patch, metav1.PatchOptions{FieldManager: helmdrift.FieldManager, Force: &force}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "unlabelled"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, labelled("marker"), metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, edits); e.Name != "marker" || e.Deleted || e.GVK.Kind != "ConfigMap" || e.Labels[originLabel] != "app" {
		t.Fatalf("first edit %+v, want the marker's creation", e)
	}

	// Someone else's edit of the object helm-controller wrote is.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, "own", metav1.GetOptions{})
		if err != nil {
			return err
		}
		cm.Data["k"] = "edited"
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, edits); e.Name != "own" || e.Deleted {
		t.Fatalf("edit %+v, want own's edit", e)
	}
	// A deletion is.
	if err := cms.Delete(ctx, "before", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, edits); e.Name != "before" || !e.Deleted {
		t.Fatalf("edit %+v, want before's deletion", e)
	}

	// One release letting go keeps the informer; the last stops it, and
	// nothing is reported after that.
	w.Set("a", nil)
	if n := w.Informers(); n != 1 {
		t.Errorf("informers after one release let go: %d", n)
	}
	w.Set("b", nil)
	if n := w.Informers(); n != 0 {
		t.Errorf("informers after the last release let go: %d", n)
	}
}

// A status-only update (a load balancer's address, a Deployment's
// replicas counted by its controller) is not reported; a later edit of
// the object is, and comes first.
func TestWatcherLeavesStatusOut(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	svcs := env.Kube.CoreV1().Services(ns)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{originLabel: "app"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}
	created, err := svcs.Create(ctx, svc, metav1.CreateOptions{FieldManager: helmdrift.FieldManager})
	if err != nil {
		t.Fatal(err)
	}
	edits := make(chan helmdrift.Edit, 100)
	w := helmdrift.NewWatcher(env.Dynamic, func(e helmdrift.Edit) { edits <- e }, helmdrift.WatcherOptions{Selector: originLabel})
	w.Set("a", []helmdrift.Resource{{GVR: services, Namespace: ns}})
	defer w.Set("a", nil)

	created.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	if _, err := svcs.UpdateStatus(ctx, created, metav1.UpdateOptions{FieldManager: "cloud-provider"}); err != nil {
		t.Fatal(err)
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := svcs.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		live.Labels["edited"] = "yes"
		_, err = svcs.Update(ctx, live, metav1.UpdateOptions{FieldManager: "kubectl-label"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, edits); e.Name != "web" || e.Labels["edited"] != "yes" {
		t.Fatalf("first edit %+v, want the label's", e)
	}
}
