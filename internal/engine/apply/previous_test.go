package apply

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// getCounter counts GET requests by URL path.
type getCounter struct {
	mu     sync.Mutex
	byPath map[string]int
}

func (c *getCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodGet {
			c.mu.Lock()
			c.byPath[r.URL.Path]++
			c.mu.Unlock()
		}
		return rt.RoundTrip(r)
	})
}

func (c *getCounter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPath[path]
}

// countingManager returns a Manager whose GET requests counter counts.
func countingManager(t *testing.T) (*Manager, *getCounter) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	counter := &getCounter{byPath: map[string]int{}}
	cfg.Wrap(counter.wrap)
	m, err := NewForConfig(cfg, flux)
	if err != nil {
		t.Fatal(err)
	}
	return m, counter
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPreviousInventoryFastPath applies with the previous inventory known:
// an object it does not list and that does not exist is created without
// being read first; one it does not list but that exists is still read and
// found drifted; and an invalid new object still fails the set before
// anything is written.
func TestPreviousInventoryFastPath(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	m, counter := countingManager(t)
	existing := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "existing", Namespace: ns}, Data: map[string]string{"v": "old"}}
	if _, err := env.Kube.CoreV1().ConfigMaps(ns).Create(ctx, existing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: fresh, namespace: NS}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: existing, namespace: NS}
data: {v: "new"}
`)
	empty := NewInventory()
	o := opts("app", ns)
	o.Previous = &empty
	cs := mustApply(t, m, objs, o)
	got := actions(cs, ns)
	if got["ConfigMap/NS/fresh"] != Created || got["ConfigMap/NS/existing"] != Configured {
		t.Fatalf("actions %v, want fresh created and existing configured", got)
	}
	base := "/api/v1/namespaces/" + ns + "/configmaps/"
	if c := counter.count(base + "fresh"); c != 0 {
		t.Errorf("the new object was read %d times before it was created, want 0", c)
	}
	if c := counter.count(base + "existing"); c == 0 {
		t.Errorf("the existing object was never read: drift was not compared with it")
	}
	cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "fresh", metav1.GetOptions{})
	if err != nil || cm.Labels[flux.Group+"/name"] != "app" {
		t.Fatalf("fresh: %v, labels %v", err, cm.GetLabels())
	}

	bad := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: valid, namespace: NS}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: invalid, namespace: NS}
data: {"not a valid key": "1"}
`)
	if _, err := m.ApplyAll(ctx, bad, o); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("apply of an invalid object: %v, want its validation error", err)
	}
	if _, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, "valid", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the valid object of a failed set was written: %v", err)
	}
}

// TestCachedLiveFastPath applies objects the previous inventory lists with
// a cache of live objects: a copy the dry-run shows current stands in for
// the read, whether the object drifted or not; a stale copy, and an object
// with kubectl's fields to take over, are read and handled in full.
func TestCachedLiveFastPath(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	m, counter := countingManager(t)
	objs := objects(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: NS}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: drifted, namespace: NS}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stale, namespace: NS}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: edited, namespace: NS}
data: {v: "1"}
`)
	o := opts("app", ns)
	cs := mustApply(t, m, objs, o)
	inv := cs.Inventory()
	o.Previous = &inv

	cms := env.Kube.CoreV1().ConfigMaps(ns)
	edit := func(name, manager string, change func(*corev1.ConfigMap)) {
		t.Helper()
		cm, err := cms.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(cm)
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: manager}); err != nil {
			t.Fatal(err)
		}
	}
	cache := map[string]*unstructured.Unstructured{}
	snapshot := func(name string) {
		u := get(t, configMaps, ns, name)
		u.SetManagedFields(nil) // as the health informers keep them
		cache[name] = u
	}
	snapshot("stale")
	edit("drifted", "drifter", func(cm *corev1.ConfigMap) { cm.Data["v"] = "drift" })
	edit("stale", "drifter", func(cm *corev1.ConfigMap) { cm.Data["v"] = "drift" })
	edit("edited", "kubectl-edit", func(cm *corev1.ConfigMap) { cm.Labels["extra"] = "x" })
	for _, name := range []string{"same", "drifted", "edited"} {
		snapshot(name)
	}
	o.Cached = func(ref ObjectRef, gvr schema.GroupVersionResource) (*unstructured.Unstructured, bool) {
		u, ok := cache[ref.Name]
		return u, ok && gvr == configMaps
	}

	base := "/api/v1/namespaces/" + ns + "/configmaps/"
	before := map[string]int{}
	for name := range cache {
		before[name] = counter.count(base + name)
	}
	wantActions(t, mustApply(t, m, objs, o), ns, map[string]Action{
		"ConfigMap/NS/same": Unchanged, "ConfigMap/NS/drifted": Configured,
		"ConfigMap/NS/stale": Configured, "ConfigMap/NS/edited": Configured,
	})
	for name, want := range map[string]bool{"same": false, "drifted": false, "stale": true, "edited": true} {
		if read := counter.count(base+name) > before[name]; read != want {
			t.Errorf("%s read before the apply: %v, want %v", name, read, want)
		}
	}
	for _, name := range []string{"drifted", "stale"} {
		if v := nested(t, get(t, configMaps, ns, name), "data", "v"); v != "1" {
			t.Errorf("%s: data.v = %v after the apply, want the drift reverted", name, v)
		}
	}
	edited := get(t, configMaps, ns, "edited")
	if _, ok := edited.GetLabels()["extra"]; ok || slices.Contains(managers(edited), "kubectl-edit/Update") {
		t.Errorf("edited: labels %v, managers %v: kubectl's fields were not taken over and pruned", edited.GetLabels(), managers(edited))
	}
}

// TestUnreachableServerStopsTheStage applies 60 objects through a client
// whose API server refuses connections: the stage stops at the first
// refusal instead of trying every object at the client's rate, and the
// error says why.
func TestUnreachableServerStopsTheStage(t *testing.T) {
	ns := env.Namespace(t)
	cfg := rest.CopyConfig(env.Config)
	cfg.Host = "https://127.0.0.1:1" // nothing listens there
	var requests atomic.Int64
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			return rt.RoundTrip(r)
		})
	})
	dead, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := New(dead, newManager(t).mapper, flux)
	var manifests strings.Builder
	for i := range 60 {
		fmt.Fprintf(&manifests, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%02d, namespace: NS}\ndata: {v: \"1\"}\n", i)
	}
	_, err = m.ApplyAll(context.Background(), objects(t, ns, manifests.String()), opts("app", ns))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("apply through an unreachable server: %v, want connection refused (and no cancellations)", err)
	}
	// Each of the 4 planners may have a request under way when the first
	// refusal stops the stage; a read may follow a failed dry-run.
	if n := requests.Load(); n > 2*DefaultConcurrency {
		t.Errorf("%d requests for 60 objects: the stage went on after the server refused", n)
	}
}
