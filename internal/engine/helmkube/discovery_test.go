package helmkube_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/driftless/driftless/internal/testkit/helmtest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// discoveryCounter counts the discovery and OpenAPI requests made through a
// rest.Config: /api, /apis, /api/v1, /apis/<group>/<version> and /openapi/...
type discoveryCounter struct {
	mu    sync.Mutex
	paths []string
}

func (c *discoveryCounter) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if isDiscovery(req.URL.Path) {
				c.mu.Lock()
				c.paths = append(c.paths, req.URL.Path)
				c.mu.Unlock()
			}
			return rt.RoundTrip(req)
		})
	}
	return cfg
}

func (c *discoveryCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.paths)
}

func isDiscovery(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case parts[0] == "openapi":
		return true
	case parts[0] == "api":
		return len(parts) <= 2
	case parts[0] == "apis":
		return len(parts) <= 3
	}
	return false
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestDiscoveryBuiltOnce runs many actions, each with a configuration of its
// own, on one Target: discovery is built once and fetched by the first
// action only, although Helm invalidates it at the start of every action;
// Invalidate makes the next action fetch it again.
func TestDiscoveryBuiltOnce(t *testing.T) {
	ns := env.Namespace(t)
	var counter discoveryCounter
	target := newTarget(t, counter.wrap(env.Config))
	chart := helmtest.ConfigMapChart("demo", "1.0.0")

	if _, err := install(actionConfig(t, target, ns), ns, "first", sdkChart(t, chart), nil); err != nil {
		t.Fatalf("install: %v", err)
	}
	afterFirst := counter.count()
	if afterFirst == 0 {
		t.Fatal("the first action made no discovery request: the counter sees nothing")
	}
	for i := range 5 {
		vals := map[string]any{"message": fmt.Sprint("round ", i)}
		if _, err := upgrade(actionConfig(t, target, ns), ns, "first", sdkChart(t, chart), vals); err != nil {
			t.Fatalf("upgrade %d: %v", i, err)
		}
		if _, err := install(actionConfig(t, target, ns), ns, fmt.Sprint("more-", i), sdkChart(t, chart), nil); err != nil {
			t.Fatalf("install %d: %v", i, err)
		}
	}
	if got := counter.count(); got != afterFirst {
		counter.mu.Lock()
		t.Errorf("10 more actions made %d more discovery requests, want none: %v", got-afterFirst, counter.paths[afterFirst:])
		counter.mu.Unlock()
	}
	if s := target.Stats(); s.DiscoveryClients != 1 {
		t.Errorf("discovery clients built: %d, want 1", s.DiscoveryClients)
	}

	target.Invalidate()
	if _, err := upgrade(actionConfig(t, target, ns), ns, "first", sdkChart(t, chart), nil); err != nil {
		t.Fatalf("upgrade after Invalidate: %v", err)
	}
	if got := counter.count(); got == afterFirst {
		t.Error("the action after Invalidate made no discovery request")
	}
	if s := target.Stats(); s.DiscoveryClients != 1 || s.Invalidations == 0 {
		t.Errorf("after Invalidate: %+v, want 1 discovery client and an invalidation", s)
	}
}

// TestNewCRDIsSeen: a kind the cached discovery does not know is looked up
// afresh, so a CRD created behind the Target's back (by another release, a
// Kustomization, by hand) is mapped by the next action without Invalidate,
// as Helm, which re-reads discovery for every action, would map it. A kind
// the server does not serve still fails, naming it.
func TestNewCRDIsSeen(t *testing.T) {
	ns := env.Namespace(t)
	target := newTarget(t, env.Config)
	if _, err := install(actionConfig(t, target, ns), ns, "warm", sdkChart(t, helmtest.ConfigMapChart("demo", "1.0.0")), nil); err != nil {
		t.Fatalf("install: %v", err)
	}

	group := strings.ToLower(t.Name()) + ".driftless.dev"
	chart := helmtest.NewChart("gadgets", "1.0.0").Template("gadget.yaml", fmt.Sprintf(`apiVersion: %s/v1
kind: Gadget
metadata:
  name: {{ .Release.Name }}
spec:
  size: 3
`, group))

	_, err := install(actionConfig(t, target, ns), ns, "before", sdkChart(t, chart), nil)
	if err == nil || !strings.Contains(err.Error(), `no matches for kind "Gadget"`) {
		t.Fatalf("install before the CRD: %v, want an error naming the unknown kind Gadget", err)
	}
	before := target.Stats().Invalidations
	createCRD(t, group, "Gadget")
	if _, err := install(actionConfig(t, target, ns), ns, "after", sdkChart(t, chart), nil); err != nil {
		t.Fatalf("install after the CRD was created: %v", err)
	}
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gadgets"}
	if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), "after", metav1.GetOptions{}); err != nil {
		t.Errorf("Gadget after: %v", err)
	}
	if s := target.Stats(); s.DiscoveryClients != 1 || s.Invalidations != before+1 {
		t.Errorf("stats %+v, want 1 discovery client and one reset more than %d", s, before)
	}

	// Invalidate still forgets everything, for callers that applied CRDs.
	target.Invalidate()
	if _, err := upgrade(actionConfig(t, target, ns), ns, "after", sdkChart(t, chart), nil); err != nil {
		t.Fatalf("upgrade after Invalidate: %v", err)
	}
}

// createCRD creates helmtest's CRD of kind in group and waits until it is
// Established; it is deleted when the test ends.
func createCRD(t *testing.T, group, kind string) {
	t.Helper()
	ctx := context.Background()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(helmtest.CRDManifest(group, kind)), &obj); err != nil {
		t.Fatal(err)
	}
	crds := env.Dynamic.Resource(crdResource)
	crd, err := crds.Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	testcluster.Eventually(t, 30*time.Second, "CRD "+crd.GetName()+" established", func() (bool, error) {
		got, err := crds.Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

var crdResource = apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")

// TestUnknownKindLookup: a kind nobody serves costs one uncached GET of its
// group version per install, and a group that is no valid API group name (a
// manifest is tenant content) costs none: it never becomes a request path.
func TestUnknownKindLookup(t *testing.T) {
	ns := env.Namespace(t)
	var counter discoveryCounter
	target := newTarget(t, counter.wrap(env.Config))
	if _, err := install(actionConfig(t, target, ns), ns, "warm", sdkChart(t, helmtest.ConfigMapChart("demo", "1.0.0")), nil); err != nil {
		t.Fatalf("install: %v", err)
	}
	for _, tc := range []struct{ apiVersion, want string }{
		{"nowhere.driftless.dev/v1", "/apis/nowhere.driftless.dev/v1"},
		{"..%2F..%2Fapi/v1", ""},
		{"UPPER.driftless.dev/v1", ""},
	} {
		chart := helmtest.NewChart("unknown", "1.0.0").Template("thing.yaml", "apiVersion: "+tc.apiVersion+`
kind: Thing
metadata:
  name: {{ .Release.Name }}
`)
		before := counter.count()
		_, err := install(actionConfig(t, target, ns), ns, "unknown", sdkChart(t, chart), nil)
		if err == nil || !strings.Contains(err.Error(), `no matches for kind "Thing"`) {
			t.Errorf("%s: install: %v, want no matches for kind Thing", tc.apiVersion, err)
		}
		// Group discovery only: the validator reads OpenAPI on its own terms.
		var paths []string
		counter.mu.Lock()
		for _, p := range counter.paths[before:] {
			if strings.HasPrefix(p, "/api") {
				paths = append(paths, p)
			}
		}
		counter.mu.Unlock()
		switch {
		case tc.want == "" && len(paths) != 0:
			t.Errorf("%s: discovery requests %v, want none", tc.apiVersion, paths)
		case tc.want != "" && (len(paths) != 1 || paths[0] != tc.want):
			t.Errorf("%s: discovery requests %v, want %s once", tc.apiVersion, paths, tc.want)
		}
	}
	if s := target.Stats(); s.Invalidations != 0 {
		t.Errorf("unknown kinds reset the mapper: %+v", s)
	}
}
