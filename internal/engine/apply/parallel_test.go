package apply

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// applyGate holds the first ConfigMap apply until a second one is in
// flight (or a deadline passes), and records the order in which applies
// of each kind start and end.
type applyGate struct {
	mu       sync.Mutex
	inFlight int
	second   chan struct{}
	once     sync.Once
	events   []string
}

func (g *applyGate) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method != http.MethodPatch || r.URL.Query().Get("dryRun") != "" {
			return rt.RoundTrip(r)
		}
		kind := "other"
		switch {
		case strings.Contains(r.URL.Path, "/configmaps/"):
			kind = "configmap"
		case strings.Contains(r.URL.Path, "/deployments/"):
			kind = "deployment"
		}
		g.mu.Lock()
		g.events = append(g.events, "start "+kind)
		first := false
		if kind == "configmap" {
			g.inFlight++
			first = g.inFlight == 1
			if g.inFlight == 2 {
				g.once.Do(func() { close(g.second) })
			}
		}
		g.mu.Unlock()
		if first {
			select {
			case <-g.second:
			case <-time.After(10 * time.Second):
			}
		}
		resp, err := rt.RoundTrip(r)
		g.mu.Lock()
		g.events = append(g.events, "end "+kind)
		if kind == "configmap" {
			g.inFlight--
		}
		g.mu.Unlock()
		return resp, err
	})
}

// TestObjectsOfOneKindApplyTogether applies ten ConfigMaps and a
// Deployment: the ConfigMaps are written at the same time (the first one's
// request is held until a second is in flight), and the Deployment only
// after every ConfigMap, in Flux's kind order.
func TestObjectsOfOneKindApplyTogether(t *testing.T) {
	ns := env.Namespace(t)
	cfg := rest.CopyConfig(env.Config)
	gate := &applyGate{second: make(chan struct{})}
	cfg.Wrap(gate.wrap)
	m, err := NewForConfig(cfg, flux)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: NS}\ndata: {i: \"%d\"}\n---\n", i, i)
	}
	b.WriteString(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example.com/web:1}]}
`)
	start := time.Now()
	cs := mustApply(t, m, objects(t, ns, b.String()), opts("app", ns))
	if len(cs.Entries) != 11 {
		t.Fatalf("%d changes, want 11", len(cs.Entries))
	}
	select {
	case <-gate.second:
	default:
		t.Fatalf("no two ConfigMaps were applied at once (took %s)", time.Since(start))
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	lastCM, firstDeploy := -1, -1
	for i, e := range gate.events {
		if e == "end configmap" {
			lastCM = i
		}
		if e == "start deployment" && firstDeploy < 0 {
			firstDeploy = i
		}
	}
	if firstDeploy < 0 || firstDeploy < lastCM {
		t.Fatalf("the Deployment was applied before every ConfigMap was: %v", gate.events)
	}
	for i, e := range cs.Entries {
		if i < 10 && e.Ref.Kind != "ConfigMap" || i == 10 && e.Ref.Kind != "Deployment" {
			t.Fatalf("change set out of order at %d: %s", i, e.Ref)
		}
	}
}
