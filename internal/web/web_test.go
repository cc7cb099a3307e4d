package web

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/driftless/driftless/internal/web/eventsource"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newTestServer is the UI over the fixtures, at the fixed clock.
func newTestServer() http.Handler { return New(testOptions()) }

func testOptions() Options {
	return Options{Store: NewMemoryStore(fixtures()...), Now: func() time.Time { return now }, Hosts: []string{"localhost", "127.0.0.1"},
		Anonymous: true, Objects: newFakeObjects(objectFixtures()...), Events: eventsource.New(fake.NewClientset(fixtureEvents()...))}
}

// get requests path from h as a browser on localhost would, without gzip.
func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://localhost:9080"+path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// goldenPages are every page the golden files pin, by file name.
var goldenPages = map[string]string{
	"overview.html":                       "/",
	"overview-lookup.html":                "/?who-kind=deployments.apps&who-namespace=apps&who-name=podinfo",
	"object-ready-kustomization.html":     "/o/kustomize.toolkit.fluxcd.io/Kustomization/flux-system/apps",
	"object-failing-kustomization.html":   "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/broken",
	"object-script-message.html":          "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/untrusted",
	"object-helmrelease-no-status.html":   "/o/helm.toolkit.fluxcd.io/HelmRelease/apps/podinfo",
	"object-suspended-gitrepository.html": "/o/source.toolkit.fluxcd.io/GitRepository/flux-system/flux-system",
	"object-alert-not-reconciled.html":    "/o/notification.toolkit.fluxcd.io/Alert/flux-system/on-call",
	"notfound.html":                       "/o/kustomize.toolkit.fluxcd.io/Kustomization/apps/missing",
}

func TestGoldenPages(t *testing.T) {
	h := newTestServer()
	for file, path := range goldenPages {
		t.Run(file, func(t *testing.T) {
			rec := get(t, h, path)
			if file != "notfound.html" && rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body)
			}
			golden(t, file, rec.Body.Bytes())
		})
	}
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/web -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/web -update rewrites it):\n%s", file, got)
	}
}
