package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	providers = schema.GroupVersionResource{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Resource: "providers"}
	alerts    = schema.GroupVersionResource{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Resource: "alerts"}
)

// TestSplitNotificationProcess runs the notification controller in a
// process of its own, as the split install does: the source controller's
// process posts its events to --events-addr, and they reach the Alert's
// provider as in one process.
func TestSplitNotificationProcess(t *testing.T) {
	var mu sync.Mutex
	var got []eventv1.Event
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e eventv1.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}))
	defer hook.Close()
	find := func(name, severity string) (eventv1.Event, bool) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range got {
			if e.InvolvedObject.Name == name && e.Severity == severity {
				return e, true
			}
		}
		return eventv1.Event{}, false
	}

	ns := env.Namespace(t)
	create(t, providers, ns, map[string]any{"name": "hook"}, map[string]any{"type": "generic", "address": hook.URL})
	create(t, alerts, ns, map[string]any{"name": "sources"}, map[string]any{
		"providerRef":   map[string]any{"name": "hook"},
		"eventSeverity": "info",
		"eventSources":  []any{map[string]any{"kind": "GitRepository", "name": "*"}},
	})

	events := addr(t)
	start(t, "--controllers=notification", "--events-listen-addr", events)
	start(t, "--controllers=source", "--events-addr", "http://"+events)

	repo := gittest.NewRepo(t)
	hash := repo.CommitFiles("main", map[string]string{"app.yaml": "kind: ConfigMap"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	gitRepository(t, ns, "app", srv.RepoURL(repo.Name()))
	gitRepository(t, ns, "broken", "http://127.0.0.1:1/none.git")

	var ok, bad eventv1.Event
	testcluster.Eventually(t, 90*time.Second, "both repositories' events at the provider", func() (bool, error) {
		var okFound, badFound bool
		ok, okFound = find("app", eventv1.EventSeverityInfo)
		bad, badFound = find("broken", eventv1.EventSeverityError)
		return okFound && badFound, nil
	})
	if ok.ReportingController != "source-controller" || !strings.Contains(ok.Message, hash) ||
		ok.Metadata["source.toolkit.fluxcd.io/revision"] != "main@sha1:"+hash {
		t.Errorf("the success event = %+v; want source-controller's, naming revision %s", ok, hash)
	}
	if ok.InvolvedObject.Namespace != ns || ok.InvolvedObject.Kind != "GitRepository" {
		t.Errorf("the event's object = %+v", ok.InvolvedObject)
	}
	if !strings.Contains(bad.Message, "127.0.0.1:1") {
		t.Errorf("the error event's message = %q; want the fetch error", bad.Message)
	}
}

func create(t *testing.T, res schema.GroupVersionResource, ns string, meta, spec map[string]any) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": res.GroupVersion().String(),
		"kind":       map[string]string{"providers": "Provider", "alerts": "Alert"}[res.Resource],
		"metadata":   meta, "spec": spec,
	}}
	if _, err := env.Dynamic.Resource(res).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
