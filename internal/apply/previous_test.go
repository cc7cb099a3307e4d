package apply

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	cfg := rest.CopyConfig(env.Config)
	counter := &getCounter{byPath: map[string]int{}}
	cfg.Wrap(counter.wrap)
	m, err := NewForConfig(cfg, flux)
	if err != nil {
		t.Fatal(err)
	}
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
