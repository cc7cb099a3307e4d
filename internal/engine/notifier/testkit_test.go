package notifier

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// fakeService is a hosted service's stand-in: it records each request and
// answers with the status (and body) the test sets.
type fakeService struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	status   int
	answer   string
	header   http.Header
}

// recorded is one request the fake received.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func newFakeService(t *testing.T) *fakeService {
	t.Helper()
	f := &fakeService{status: http.StatusOK, header: http.Header{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		status, answer := f.status, f.answer
		for k, vs := range f.header {
			w.Header()[k] = vs
		}
		f.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

// answer sets what the fake answers from now on.
func (f *fakeService) answerWith(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.answer = status, body
}

// received returns the requests so far.
func (f *fakeService) received() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// only returns the one request the fake received, failing otherwise.
func (f *fakeService) only(t *testing.T) recorded {
	t.Helper()
	got := f.received()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	return got[0]
}

// golden compares a request with testdata/<name>.golden: its method,
// path, query, the headers named and the body (JSON indented, so a diff
// reads). -update rewrites the file.
func golden(t *testing.T, name string, r recorded, headers ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(r.Method + " " + r.Path)
	if r.Query != "" {
		b.WriteString("?" + r.Query)
	}
	b.WriteString("\n")
	sort.Strings(headers)
	for _, h := range headers {
		for _, v := range r.Header.Values(h) {
			b.WriteString(h + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	var indented bytes.Buffer
	if json.Indent(&indented, r.Body, "", "  ") == nil {
		b.Write(indented.Bytes())
	} else {
		b.Write(r.Body)
	}
	b.WriteString("\n")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, b.String(), want)
	}
}

// testEvent is the event every payload test sends: a Kustomization's
// failed health check with a revision and a summary.
func testEvent(severity string) eventv1.Event {
	return eventv1.Event{
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization",
			Name: "apps", Namespace: "flux-system", UID: "8a1c5d2e-6b7f-4c3d-9e0a-1b2c3d4e5f60",
		},
		Severity:  severity,
		Timestamp: metav1.NewTime(time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC)),
		Message:   "Health check failed after 30s: Deployment/apps/podinfo status: 'InProgress'",
		Reason:    "HealthCheckFailed",
		Metadata: map[string]string{
			"kustomize.toolkit.fluxcd.io/revision": "main@sha1:5f2c3a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
			"summary":                              "production cluster",
		},
		ReportingController: "kustomize-controller",
		ReportingInstance:   "driftless-controller-7d9f",
	}
}
