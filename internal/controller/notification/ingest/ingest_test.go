package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/internal/controller/notification/dispatch"
)

// fakeDispatcher records what it takes and refuses with err.
type fakeDispatcher struct {
	mu  sync.Mutex
	got []eventv1.Event
	err error
}

func (d *fakeDispatcher) Submit(e eventv1.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.got = append(d.got, e)
	return nil
}

func fluxEvent(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/flux-event.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// An event in Flux's format, as Flux's controllers post it, decodes whole.
func TestFluxEventFromFileDecodes(t *testing.T) {
	e, err := Decode(fluxEvent(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.InvolvedObject.Kind != "Kustomization" || e.InvolvedObject.Name != "webapp" || e.InvolvedObject.Namespace != "apps" ||
		e.InvolvedObject.APIVersion != "kustomize.toolkit.fluxcd.io/v1" || e.InvolvedObject.UID != "7d0cdc51-ddcf-4743-b223-83ca5c699632" ||
		e.Severity != eventv1.EventSeverityError || e.Reason != "ValidationFailed" || e.ReportingController != "kustomize-controller" ||
		e.ReportingInstance != "kustomize-controller-7f5d8b8c9-x2x4q" ||
		e.Metadata["kustomize.toolkit.fluxcd.io/revision"] != "main@sha1:731f7eaddfb6af01cb2173e18f0f75b0ba780ef1" ||
		!e.Timestamp.Time.Equal(time.Date(2022, 10, 28, 7, 26, 19, 0, time.UTC)) ||
		!strings.HasPrefix(e.Message, "service/apps/webapp validation error") {
		t.Errorf("decoded %+v", e)
	}
}

func TestHandlerAnswers(t *testing.T) {
	good := string(fluxEvent(t))
	for name, c := range map[string]struct {
		method  string
		body    string
		refusal error
		code    int
		taken   int
		text    string
	}{
		"event taken":       {method: "POST", body: good, code: 202, taken: 1},
		"not JSON":          {method: "POST", body: "{not json", code: 400, text: "not a Flux event"},
		"wrong type":        {method: "POST", body: `{"involvedObject":"x"}`, code: 400, text: "involvedObject"},
		"no involvedObject": {method: "POST", body: `{"message":"hi","severity":"info"}`, code: 400, text: "involvedObject.kind"},
		"no name":           {method: "POST", body: `{"involvedObject":{"kind":"Kustomization","namespace":"a"}}`, code: 400, text: "involvedObject.name"},
		"no namespace":      {method: "POST", body: `{"involvedObject":{"kind":"Kustomization","name":"a"}}`, code: 400, text: "involvedObject.namespace"},
		"empty body":        {method: "POST", body: "", code: 400},
		"rate limited":      {method: "POST", body: good, refusal: dispatch.ErrRateLimited, code: 429},
		"queue full":        {method: "POST", body: good, refusal: fmt.Errorf("dispatch: %w", dispatch.ErrQueueFull), code: 503},
		"other failure":     {method: "POST", body: good, refusal: errors.New("boom token=s3cr3t"), code: 500, text: "could not be dispatched"},
		"GET":               {method: "GET", code: 405},
		"injected message kept as data": {method: "POST", code: 202, taken: 1,
			body: `{"involvedObject":{"kind":"Kustomization","name":"a","namespace":"b"},"message":"<!channel> \"}]} @here"}`},
	} {
		t.Run(name, func(t *testing.T) {
			d := &fakeDispatcher{err: c.refusal}
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			h := &Handler{Submitter: d, Log: logr.Discard(), Metrics: m}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(c.method, "/any/path", strings.NewReader(c.body)))
			if rec.Code != c.code {
				t.Errorf("code %d, want %d (%s)", rec.Code, c.code, rec.Body)
			}
			if len(d.got) != c.taken {
				t.Errorf("%d events taken, want %d", len(d.got), c.taken)
			}
			if !strings.Contains(rec.Body.String(), c.text) {
				t.Errorf("answer %q does not say %q", rec.Body, c.text)
			}
			if strings.Contains(rec.Body.String(), "s3cr3t") {
				t.Errorf("answer leaks the error: %q", rec.Body)
			}
			if v := testutil.ToFloat64(m.inflight); v != 0 {
				t.Errorf("%v requests in flight after the answer", v)
			}
			if again, err := NewMetrics(reg); err != nil || again.duration != m.duration {
				t.Errorf("a second NewMetrics on the registry: %v", err)
			}
			if n := testutil.CollectAndCount(reg, "gotk_event_http_request_duration_seconds"); n != 1 {
				t.Errorf("%d duration series, want 1", n)
			}
			want := fmt.Sprintf(`
# HELP gotk_event_http_request_duration_seconds The latency of the HTTP requests.
# TYPE gotk_event_http_request_duration_seconds histogram
gotk_event_http_request_duration_seconds_count{code="%d",handler="/",method="%s",service=""} 1
`, c.code, c.method)
			if err := testutil.CollectAndCompare(onlyCount{reg}, strings.NewReader(want), "gotk_event_http_request_duration_seconds"); err != nil {
				t.Error(err)
			}
		})
	}
}

// onlyCount gathers only the _count lines of histograms, so a test can
// compare them without the buckets (whose values are timings).
type onlyCount struct{ reg *prometheus.Registry }

func (o onlyCount) Describe(chan<- *prometheus.Desc) {}
func (o onlyCount) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := o.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			h := m.GetHistogram()
			ch <- prometheus.MustNewConstHistogram(prometheus.NewDesc(mf.GetName(), mf.GetHelp(), nil, labels),
				h.GetSampleCount(), 0, nil)
		}
	}
}

// A real server: the body and header limits hold on the wire.
func TestServerLimits(t *testing.T) {
	d := &fakeDispatcher{}
	addr := startServer(t, d)
	url := "http://" + addr + "/"

	post := func(body io.Reader, header http.Header) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(bytes.NewReader(fluxEvent(t)), http.Header{"Content-Type": {"application/json"}}); code != 202 {
		t.Errorf("a good event: %d", code)
	}
	big := `{"involvedObject":{"kind":"K","name":"n","namespace":"ns"},"message":"` + strings.Repeat("a", 4<<20) + `"}`
	if code := post(strings.NewReader(big), nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 4 MiB body: %d, want 413", code)
	}
	header := http.Header{}
	for i := range 30 {
		header.Set(fmt.Sprintf("X-Pad-%d", i), strings.Repeat("h", 10<<10))
	}
	if code := post(bytes.NewReader(fluxEvent(t)), header); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("300 KiB of headers: %d, want 431", code)
	}
	if len(d.got) != 1 {
		t.Errorf("%d events taken, want 1", len(d.got))
	}
}

func TestDisabledServer(t *testing.T) {
	if NewServer(Options{ListenAddr: "0"}, nil, logr.Discard()) != nil {
		t.Error("--events-listen-addr=0 still serves")
	}
	s := NewServer(Options{ListenAddr: DefaultListenAddr}, nil, logr.Discard())
	if s == nil || s.NeedLeaderElection() {
		t.Errorf("the default endpoint: %+v", s)
	}
	srv := (&Server{Handler: http.NotFoundHandler()}).httpServer()
	if srv.MaxHeaderBytes != 256<<10 || srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second {
		t.Errorf("limits %d %s %s", srv.MaxHeaderBytes, srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
}

func startServer(t *testing.T, sub Submitter) string {
	t.Helper()
	listening := make(chan string, 1)
	s := &Server{Addr: "127.0.0.1:0", Handler: &Handler{Submitter: sub, Log: logr.Discard()}, Log: logr.Discard(), listening: listening}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case addr := <-listening:
		return addr
	case err := <-done:
		t.Fatal(err)
	}
	return ""
}

// FuzzIngestEvent: no body makes the handler panic, and it answers one of
// the codes the protocol knows.
func FuzzIngestEvent(f *testing.F) {
	f.Add([]byte(`{"involvedObject":{"kind":"Kustomization","name":"a","namespace":"b"}}`))
	f.Add([]byte(`{"involvedObject":{}}`))
	f.Add([]byte(`{"metadata":{"a":1}}`))
	f.Add([]byte(`{"timestamp":"not a time","involvedObject":{"kind":"K","name":"a","namespace":"b"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := &Handler{Submitter: &fakeDispatcher{}, Log: logr.Discard()}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		switch rec.Code {
		case 202, 400, 413:
		default:
			t.Errorf("code %d for %q", rec.Code, body)
		}
	})
}
