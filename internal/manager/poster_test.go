package manager

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/internal/reconcile"
)

// endpoint is a notification controller answering with the codes given,
// then 202, recording what it received.
type endpoint struct {
	mu     sync.Mutex
	codes  []int
	bodies []eventv1.Event
	calls  atomic.Int32
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	code := http.StatusAccepted
	if len(e.codes) > 0 {
		code, e.codes = e.codes[0], e.codes[1:]
	}
	if code == http.StatusAccepted {
		var ev eventv1.Event
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		e.bodies = append(e.bodies, ev)
	}
	w.WriteHeader(code)
}

func (e *endpoint) received() []eventv1.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]eventv1.Event(nil), e.bodies...)
}

func testPoster(t *testing.T, address string) (*Poster, *[]time.Duration) {
	t.Helper()
	p, err := NewPoster(address)
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	p.Sleep = func(d time.Duration) { waits = append(waits, d) }
	return p, &waits
}

func fluxEvent(message string) eventv1.Event {
	return eventv1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "apps", Namespace: "flux-system"},
		Severity: eventv1.EventSeverityError, Message: message, Reason: "BuildFailed", ReportingController: "kustomize-controller"}
}

func TestPosterRetriesServerErrorsOnly(t *testing.T) {
	for name, c := range map[string]struct {
		codes     []int
		calls     int32
		delivered int
		waits     int
		wantErr   bool
		limited   bool
	}{
		"503 twice then 202 is delivered once": {codes: []int{503, 503}, calls: 3, delivered: 1, waits: 2},
		"429 is not retried":                   {codes: []int{429}, calls: 1, wantErr: true, limited: true},
		"400 is not retried":                   {codes: []int{400}, calls: 1, wantErr: true},
		"5xx gives up after the attempts":      {codes: []int{500, 502, 503, 504, 500}, calls: PostAttempts, waits: PostAttempts - 1, wantErr: true},
	} {
		t.Run(name, func(t *testing.T) {
			ep := &endpoint{codes: c.codes}
			srv := httptest.NewServer(ep)
			defer srv.Close()
			p, waits := testPoster(t, srv.URL+"/")
			err := p.Submit(fluxEvent("boom"))
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			if errors.Is(err, reconcile.ErrEventRateLimited) != c.limited {
				t.Errorf("rate limited = %v, want %v (%v)", !c.limited, c.limited, err)
			}
			if got := ep.calls.Load(); got != c.calls {
				t.Errorf("%d attempts, want %d", got, c.calls)
			}
			if got := ep.received(); len(got) != c.delivered || (c.delivered == 1 && got[0].Message != "boom") {
				t.Errorf("delivered %+v", got)
			}
			if len(*waits) != c.waits {
				t.Errorf("waited %v, want %d waits", *waits, c.waits)
			}
			for i := 1; i < len(*waits); i++ {
				if (*waits)[i] != 2*(*waits)[i-1] {
					t.Errorf("back-off %v does not double", *waits)
				}
			}
		})
	}
}

// An unreachable notification controller: the event is retried, then
// dropped, counted and logged by the relay's queue; the pass never waits.
func TestUnreachableEventsAddrDropsAndCounts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := "http://" + l.Addr().String() + "/"
	_ = l.Close()
	p, waits := testPoster(t, address)
	relay := NewRelay(8, logr.Discard())
	relay.SetTarget(p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay.start(ctx)
	relay.queue.Enqueue(fluxEvent("lost"))
	waitFor(t, "the event counted as dropped", func() bool { return relay.Queue().Dropped() == 1 })
	if len(*waits) != PostAttempts-1 {
		t.Errorf("waited %v, want %d retries", *waits, PostAttempts-1)
	}
}

func TestEventsAddrMustBeAURL(t *testing.T) {
	for _, bad := range []string{"notification-controller", "ftp://x/", "http://", ":9090", "http://a b/"} {
		if _, err := NewPoster(bad); err == nil {
			t.Errorf("--events-addr %q accepted", bad)
		}
		o := Options{EventsAddr: bad, LogEncoding: "json", LogLevel: "info", Concurrent: 1}
		if err := o.Validate(); err == nil {
			t.Errorf("Validate accepted --events-addr %q", bad)
		}
	}
	if _, err := NewPoster("http://notification-controller.flux-system.svc.cluster.local./"); err != nil {
		t.Error(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A password in --events-addr never reaches an error (the relay logs them).
func TestPosterErrorsHideThePassword(t *testing.T) {
	ep := &endpoint{codes: []int{400}}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	p, _ := testPoster(t, strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1)+"/")
	err := p.Submit(fluxEvent("x"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
	if err := (Options{EventsAddr: "ftp://user:hunter2@x/", LogEncoding: "json", LogLevel: "info", Concurrent: 1}).Validate(); err == nil ||
		strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Validate: %v", err)
	}
}
