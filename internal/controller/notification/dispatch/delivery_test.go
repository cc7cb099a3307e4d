package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
)

func unavailable(context.Context, int) error {
	return &notifier.StatusError{Code: http.StatusServiceUnavailable, Address: "https://hooks.example.com/***"}
}

// oneAlert is an Alert on every Kustomization of flux-system to Provider
// name of the type.
func oneAlert(name, typ string) []client.Object {
	return []client.Object{alertObj(name, name, source("Kustomization", "*")), providerObj(name, typ)}
}

// TestDeliveryRetriesThenSends: 503 twice, then OK: notified exactly once.
func TestDeliveryRetriesThenSends(t *testing.T) {
	n := newFakeNotifier(func(ctx context.Context, call int) error {
		if call <= 2 {
			return unavailable(ctx, call)
		}
		return nil
	})
	h := newHarness(t, oneAlert("hook", "generic"), map[string]*fakeNotifier{"hook": n}, nil)
	h.start(t)
	h.submit(t, ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom"))
	n.waitPosts(t, 3)
	h.stop()
	calls, sent := n.count()
	if calls != 3 || len(sent) != 1 {
		t.Fatalf("%d calls, %d sent; want 3 calls and 1 sent", calls, len(sent))
	}
	if got := h.delivered("generic", resultSent, ""); got != 1 {
		t.Errorf("sent count %d", got)
	}
	if got := h.delivered("generic", resultRetried, ""); got != 2 {
		t.Errorf("retried count %d", got)
	}
	if got := h.sink.withReason(NotificationDispatchFailedReason); len(got) != 0 {
		t.Errorf("failure events on a success: %v", got)
	}
}

// TestDeliveryDeadProvider: a provider that always answers 503 is tried
// MaxAttempts times, then the failure is an Alert event, a log and a count.
func TestDeliveryDeadProvider(t *testing.T) {
	n := newFakeNotifier(unavailable)
	h := newHarness(t, oneAlert("dead", "slack"), map[string]*fakeNotifier{"dead": n}, func(c *Config) { c.MaxAttempts = 3 })
	h.start(t)
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	e.Metadata[ksGroup+"/token"] = "s3cr3t-token-value"
	h.submit(t, e)
	n.waitPosts(t, 3)
	h.stop()
	if calls, _ := n.count(); calls != 3 {
		t.Fatalf("%d calls, want exactly MaxAttempts (3)", calls)
	}
	events := h.sink.withReason(NotificationDispatchFailedReason)
	if len(events) != 1 {
		t.Fatalf("got %v, want one %s event", events, NotificationDispatchFailedReason)
	}
	ev := events[0]
	for _, want := range []string{"Provider flux-system/dead (slack)", "Kustomization flux-system/apps", "after 3 attempts", "503", "https://hooks.example.com/***"} {
		if !strings.Contains(ev.message, want) {
			t.Errorf("event message %q lacks %q", ev.message, want)
		}
	}
	if ev.eventType != "Warning" || ev.object != "Alert/flux-system/dead" {
		t.Errorf("event %+v: want a Warning on Alert/flux-system/dead", ev)
	}
	if got := h.delivered("slack", resultFailed, ""); got != 1 {
		t.Errorf("failed count %d", got)
	}
	if strings.Contains(ev.message, "s3cr3t") || len(h.logs.find("s3cr3t")) != 0 {
		t.Errorf("the event's token reached an event or a log")
	}
	if lines := h.logs.find("notification not sent", `"alert"="flux-system/dead"`, `"provider"="flux-system/dead"`, `"object"="Kustomization/flux-system/apps"`); len(lines) != 1 {
		t.Errorf("want one error log naming alert, provider and object; logs: %v", h.logs.lines)
	}
}

// TestDeliveryPermanentError: a 400 is not retried.
func TestDeliveryPermanentError(t *testing.T) {
	n := newFakeNotifier(func(context.Context, int) error {
		return &notifier.StatusError{Code: http.StatusBadRequest, Address: "https://chat.example.com/api", Body: "invalid_payload"}
	})
	h := newHarness(t, oneAlert("chat", "slack"), map[string]*fakeNotifier{"chat": n}, nil)
	h.start(t)
	h.submit(t, ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom"))
	n.waitPosts(t, 1)
	h.stop()
	if calls, _ := n.count(); calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
	onAlert, onProvider := h.sink.withReason(NotificationDispatchFailedReason), h.sink.on("Provider", NotificationDispatchFailedReason)
	if len(onAlert) != 1 || !strings.Contains(onAlert[0].message, "after 1 attempt:") {
		t.Errorf("Alert events %v", onAlert)
	}
	if len(onProvider) != 1 || !strings.Contains(onProvider[0].message, "invalid_payload") {
		t.Errorf("Provider events %v, want one with the service's answer", onProvider)
	}
}

// TestDeliveryRetryAfterBeyondBound: a Retry-After past the retry bound
// fails the delivery at once rather than waiting or retrying early.
func TestDeliveryRetryAfterBeyondBound(t *testing.T) {
	n := newFakeNotifier(func(context.Context, int) error {
		return &notifier.StatusError{Code: http.StatusTooManyRequests, RetryAfter: time.Hour, Address: "https://api.example.com"}
	})
	h := newHarness(t, oneAlert("busy", "opsgenie"), map[string]*fakeNotifier{"busy": n}, nil)
	h.start(t)
	h.submit(t, ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom"))
	n.waitPosts(t, 1)
	h.stop()
	if calls, _ := n.count(); calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
	events := h.sink.withReason(NotificationDispatchFailedReason)
	if len(events) != 1 || !strings.Contains(events[0].message, "in 1h0m0s, would pass the retry bound") {
		t.Errorf("events %v, want the Retry-After named", events)
	}
}

// TestDeliveryHungProviderDelaysNoOther: a Provider that never answers
// (within its 15 s default timeout) holds its own queue only; at shutdown
// its events are counted.
func TestDeliveryHungProviderDelaysNoOther(t *testing.T) {
	started := make(chan struct{})
	hung := newFakeNotifier(func(ctx context.Context, n int) error {
		if n == 1 {
			close(started)
		}
		<-ctx.Done()
		return ctx.Err()
	})
	fine := newFakeNotifier(nil)
	objs := append(oneAlert("hung", "generic"), oneAlert("fine", "slack")...)
	h := newHarness(t, objs, map[string]*fakeNotifier{"hung": hung, "fine": fine}, func(c *Config) {
		c.DrainTimeout = 10 * time.Millisecond
		c.ProviderWorkers = 1
	})
	h.start(t)
	const events = 20
	for i := range events {
		h.submit(t, ksEvent("flux-system", fmt.Sprintf("app-%d", i), eventv1.EventSeverityError, "boom"))
	}
	fine.waitPosts(t, events) // all sent, whether or not hung's worker has begun
	// hung's one worker takes its first event and hangs there: no second call.
	select {
	case <-started:
	case <-time.After(waitBound):
		t.Fatal("hung was never called")
	}
	if calls, _ := hung.count(); calls != 1 {
		t.Fatalf("hung got %d calls, want 1 (still hanging)", calls)
	}
	h.stop()
	if got := h.delivered("slack", resultSent, ""); got != events {
		t.Errorf("fine sent %d, want %d", got, events)
	}
	if got := h.delivered("generic", resultDropped, dropShutdown); got != events {
		t.Errorf("hung's events dropped at shutdown: %d, want %d (all counted)", got, events)
	}
	if lines := h.logs.find("notification not sent before shutdown", `"provider"="flux-system/hung"`); len(lines) != events {
		t.Errorf("%d shutdown logs, want %d", len(lines), events)
	}
}

// TestDeliveryOrderPerObject: an object's events reach a Provider in the
// order they were submitted, while other objects' events interleave.
func TestDeliveryOrderPerObject(t *testing.T) {
	n := newFakeNotifier(func(ctx context.Context, call int) error {
		if call%3 == 0 {
			return unavailable(ctx, call) // retries must not reorder
		}
		return nil
	})
	h := newHarness(t, oneAlert("git", "github"), map[string]*fakeNotifier{"git": n}, func(c *Config) {
		c.Workers = 4
		c.ProviderWorkers = 4
		c.MaxAttempts = 10
	})
	h.start(t)
	const perObject = 30
	objects := []string{"a", "b", "c", "d", "e"}
	for i := range perObject {
		for _, o := range objects {
			e := ksEvent("flux-system", o, eventv1.EventSeverityError, fmt.Sprintf("%s-%03d", o, i))
			h.submit(t, e)
		}
	}
	h.stop() // drains everything
	for _, queue := range []string{queueIngress, "github"} {
		if got := testutil.ToFloat64(h.d.metrics.queue.WithLabelValues(queue)); got != 0 {
			t.Errorf("queue length %s = %v after the drain, want 0", queue, got)
		}
	}
	_, sent := n.count()
	if len(sent) != perObject*len(objects) {
		t.Fatalf("sent %d, want %d", len(sent), perObject*len(objects))
	}
	seen := map[string][]string{}
	for _, e := range sent {
		seen[e.InvolvedObject.Name] = append(seen[e.InvolvedObject.Name], e.Message)
	}
	for _, o := range objects {
		if !slices.IsSorted(seen[o]) || len(seen[o]) != perObject {
			t.Errorf("events of %s out of order or missing: %v", o, seen[o])
		}
	}
}

// TestQueueFull: a full queue refuses at once, counts and logs; the event
// can be submitted again later (the limiter forgot it).
func TestQueueFull(t *testing.T) {
	h := newHarness(t, oneAlert("hook", "generic"), nil, func(c *Config) {
		c.QueueSize = 1
		c.Workers = 1
	})
	first := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "one")
	second := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "two")
	h.submit(t, first)
	if err := h.d.Submit(second); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("second Submit: %v, want ErrQueueFull", err)
	}
	if got := h.submitted(resultDropped, dropQueueFull); got != 1 {
		t.Errorf("queue_full count %d", got)
	}
	if lines := h.logs.find("event not dispatched", `"name"="apps"`); len(lines) != 1 {
		t.Errorf("want one log naming the object: %v", h.logs.lines)
	}
	h.start(t)
	h.stop()
	if err := h.d.Submit(second); !errors.Is(err, ErrQueueFull) || !strings.Contains(err.Error(), "stopping") {
		t.Errorf("Submit after stop: %v, want ErrQueueFull saying the dispatcher is stopping", err)
	}
	if got := h.delivered("generic", resultSent, ""); got != 1 {
		t.Errorf("sent %d, want 1 (the queued event)", got)
	}
}

// TestProviderQueueFull: a Provider's full queue drops with a count, a
// log and one Alert event.
func TestProviderQueueFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	n := newFakeNotifier(func(ctx context.Context, call int) error {
		if call == 1 {
			close(started)
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	h := newHarness(t, oneAlert("slow", "msteams"), map[string]*fakeNotifier{"slow": n}, func(c *Config) {
		c.ProviderQueueSize = 2
		c.ProviderWorkers = 1
	})
	h.start(t)
	// Matched here rather than by a worker, so the drops happen before
	// the checks below.
	h.d.match(queued{event: ksEvent("flux-system", "a", eventv1.EventSeverityError, "0")})
	select {
	case <-started:
	case <-time.After(waitBound):
		t.Fatal("the first delivery never started")
	}
	for i := 1; i <= 5; i++ {
		h.d.match(queued{event: ksEvent("flux-system", "a", eventv1.EventSeverityError, fmt.Sprint(i))})
	}
	if got := h.delivered("msteams", resultDropped, dropQueueFull); got != 3 {
		t.Errorf("dropped{queue_full} %d, want 3 (one in flight, two queued)", got)
	}
	if lines := h.logs.find("event not sent", `"provider"="flux-system/slow"`); len(lines) != 3 {
		t.Errorf("%d logs of the drops, want 3", len(lines))
	}
	close(release)
	h.stop()
	if got := h.delivered("msteams", resultSent, ""); got != 3 {
		t.Errorf("sent %d, want 3", got)
	}
	if events := h.sink.withReason(NotificationDispatchFailedReason); len(events) != 1 || !strings.Contains(events[0].message, "queue of Provider flux-system/slow") {
		t.Errorf("events %v, want one naming the full queue", events)
	}
}

// TestDrainOnStop: what is queued when Start's context ends is delivered.
func TestDrainOnStop(t *testing.T) {
	release := make(chan struct{})
	n := newFakeNotifier(func(ctx context.Context, _ int) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	h := newHarness(t, oneAlert("hook", "generic"), map[string]*fakeNotifier{"hook": n}, func(c *Config) { c.ProviderWorkers = 1 })
	h.start(t)
	for i := range 5 {
		h.submit(t, ksEvent("flux-system", "apps", eventv1.EventSeverityError, fmt.Sprint(i)))
	}
	h.cancel() // Start drains: the deliveries are still blocked
	close(release)
	h.stop()
	if _, sent := n.count(); len(sent) != 5 {
		t.Errorf("sent %d of 5 queued events", len(sent))
	}
	if got := h.delivered("generic", resultDropped, dropShutdown); got != 0 {
		t.Errorf("%d dropped at shutdown", got)
	}
}

// TestInvalidProviderOncePerGeneration: a notifier that cannot be built
// gives one event per generation, not one per notification.
func TestInvalidProviderOncePerGeneration(t *testing.T) {
	h := newHarness(t, oneAlert("hook", "generic"), nil, nil)
	h.d.cfg.Notifier = func(context.Context, *v1beta3.Alert, *v1beta3.Provider) (notifier.Notifier, error) {
		return nil, errors.New(`secret flux-system/hook-token not found (spec.secretRef.name)`)
	}
	h.start(t)
	for i := range 4 {
		h.submit(t, ksEvent("flux-system", "apps", eventv1.EventSeverityError, fmt.Sprint(i)))
	}
	h.stop()
	onAlert, onProvider := h.sink.withReason(InvalidProviderReason), h.sink.on("Provider", InvalidProviderReason)
	if len(onAlert) != 1 || !strings.Contains(onAlert[0].message, "spec.secretRef.name") {
		t.Errorf("Alert events %v, want one naming the field", onAlert)
	}
	if len(onProvider) != 1 || !strings.Contains(onProvider[0].message, "spec.secretRef.name") {
		t.Errorf("Provider events %v, want one naming the field", onProvider)
	}
	if got := h.delivered("generic", resultDropped, dropInvalidProvider); got != 4 {
		t.Errorf("dropped{invalid_provider} %d, want 4", got)
	}
}
