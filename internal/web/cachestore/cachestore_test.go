package cachestore_test

import (
	"context"
	"io"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
	"github.com/driftless/driftless/internal/web"
	"github.com/driftless/driftless/internal/web/cachestore"
)

var (
	env  *testcluster.Cluster
	kube client.Client
	mgr  ctrl.Manager
	rec  *recorder
)

// TestMain runs the real driftless-controller manager (no controllers: the
// tests write status themselves) and reads through its shared cache.
func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: func(c *testcluster.Cluster) (func(), error) {
		var err error
		if kube, err = controllertest.Client(c); err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "cachestore-")
		if err != nil {
			return nil, err
		}
		opts := controllertest.Options(dir, "127.0.0.1:0")
		opts.SeveralManagersPerProcess = true
		if mgr, err = manager.New(c.Config, opts, []manager.Controller{}, zap.New(zap.WriteTo(io.Discard))); err != nil {
			return nil, err
		}
		rec = &recorder{Cache: mgr.GetCache()}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- mgr.Start(ctx) }()
		mgr.GetCache().WaitForCacheSync(ctx)
		return func() { cancel(); <-done; os.RemoveAll(dir) }, nil
	}}, &env)
}

// recorder is the manager's cache, noting the type of every object the
// store reads or watches through it.
type recorder struct {
	cache.Cache
	mu    sync.Mutex
	types map[reflect.Type]bool
}

func (r *recorder) note(obj any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.types == nil {
		r.types = map[reflect.Type]bool{}
	}
	r.types[reflect.TypeOf(obj)] = true
}

func (r *recorder) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.note(obj)
	return r.Cache.Get(ctx, key, obj, opts...)
}

func (r *recorder) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.note(list)
	return r.Cache.List(ctx, list, opts...)
}

func (r *recorder) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	r.note(obj)
	return r.Cache.GetInformer(ctx, obj, opts...)
}

func (r *recorder) saw(obj any) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.types[reflect.TypeOf(obj)]
}

func newStore() *cachestore.Store { return cachestore.New(rec, mgr.GetAPIReader(), nil) }

func kustomization(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Hour}, Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"}},
	}
	if err := kube.Create(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	return ks
}

func setReady(t *testing.T, ks *kustomizev1.Kustomization, status metav1.ConditionStatus, msg string) {
	t.Helper()
	ctx := context.Background()
	if err := kube.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
		t.Fatal(err)
	}
	ks.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: status, Reason: "Test", Message: msg,
		LastTransitionTime: metav1.Now(), ObservedGeneration: ks.Generation}}
	if err := kube.Status().Update(ctx, ks); err != nil {
		t.Fatal(err)
	}
}

func TestListAndGetFromTheCache(t *testing.T) {
	ns := env.Namespace(t)
	kustomization(t, ns, "b")
	kustomization(t, ns, "a")
	s := newStore()
	k := kinds.Kustomization()
	var got []kinds.Object
	testcluster.Eventually(t, 10*time.Second, "both Kustomizations in the cache", func() (bool, error) {
		var err error
		got, err = s.List(context.Background(), k, ns)
		return len(got) == 2, err
	})
	if got[0].GetName() != "a" || got[1].GetName() != "b" {
		t.Errorf("List order %s, %s; want a, b", got[0].GetName(), got[1].GetName())
	}
	got[0].SetLabels(map[string]string{"mutated": "yes"}) // a copy: the cache must not see it
	var one kustomizev1.Kustomization
	if err := s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "a"}, &one); err != nil {
		t.Fatal(err)
	}
	if one.Labels["mutated"] != "" {
		t.Error("List handed out the cache's own object")
	}
	err := s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "missing"}, &kustomizev1.Kustomization{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("missing object: %v, want NotFound", err)
	}
	if err := s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "x"}, &corev1.ConfigMap{}); err == nil {
		t.Error("Get of a ConfigMap: want a refusal, not a read that starts an informer")
	}
}

func TestSubscribeSeesStatusChangesUntilCancel(t *testing.T) {
	ns := env.Namespace(t)
	ks := kustomization(t, ns, "live")
	s := newStore()
	testcluster.Eventually(t, 10*time.Second, "the Kustomization in the cache", func() (bool, error) {
		got, err := s.List(context.Background(), kinds.Kustomization(), ns)
		return len(got) == 1, err
	})
	changes := make(chan web.Change, 100)
	cancel := s.Subscribe(func(c web.Change) {
		if c.Object.GetNamespace() == ns {
			select {
			case changes <- c:
			default: // never block the informer
			}
		}
	})
	select {
	case c := <-changes:
		t.Errorf("a change for an object already in the cache before Subscribe: %s", c.Object.GetName())
	case <-time.After(time.Second):
	}
	setReady(t, ks, metav1.ConditionFalse, "broken on purpose")
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case c := <-changes:
			conds := kinds.Conditions(c.Object)
			found = c.Kind.Kind == "Kustomization" && len(conds) == 1 && conds[0].Message == "broken on purpose"
		case <-deadline:
			t.Fatal("no change with the new status within 10s")
		}
	}
	cancel()
	cancel() // twice is harmless
	for len(changes) > 0 {
		<-changes
	}
	setReady(t, ks, metav1.ConditionTrue, "fixed")
	select {
	case c := <-changes:
		t.Errorf("a change after cancel: %s %v", c.Object.GetName(), kinds.Conditions(c.Object))
	case <-time.After(2 * time.Second):
	}
}

// TestSecretIsReadUncachedAndMetadataOnly: a static kind's readiness looks
// a Secret up through the store; the cache never gets a Secret or Event
// informer for the UI.
func TestSecretIsReadUncachedAndMetadataOnly(t *testing.T) {
	ns := env.Namespace(t)
	s := newStore()
	key := types.NamespacedName{Namespace: ns, Name: "token"}
	if err := s.Get(context.Background(), key, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("missing Secret: %v, want NotFound", err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "token", Namespace: ns}, StringData: map[string]string{"token": "s3cret"}}
	if err := kube.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	var got corev1.Secret
	if err := s.Get(context.Background(), key, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "token" || len(got.Data) != 0 || len(got.StringData) != 0 {
		t.Errorf("the store read the Secret's values or not its name: %+v", got)
	}
	cancel := s.Subscribe(func(web.Change) {})
	defer cancel()
	for _, o := range []any{&corev1.Secret{}, &corev1.SecretList{}, &corev1.Event{}, &corev1.EventList{}, &eventsv1.Event{}} {
		if rec.saw(o) {
			t.Errorf("the store read or watched %T through the shared cache", o)
		}
	}
	if !rec.saw(&kustomizev1.Kustomization{}) {
		t.Error("the recorder saw no Kustomization informer: it records nothing")
	}
}
