package dispatch

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestLimiter: the same event twice is refused within the interval; a
// different revision, origin revision, token or message passes; after the
// interval the same event passes again.
func TestLimiter(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)}
	h := newHarness(t, nil, nil, func(c *Config) {
		c.Now = clock.Now
		c.RateLimitInterval = 5 * time.Minute
	})
	e := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	h.submit(t, e)
	if err := h.d.Submit(e); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("duplicate: %v, want ErrRateLimited", err)
	}
	variants := map[string]func(*eventv1.Event){
		"revision":       func(e *eventv1.Event) { e.Metadata[ksGroup+"/revision"] = "main@sha1:4567" },
		"originRevision": func(e *eventv1.Event) { e.Metadata[ksGroup+"/originRevision"] = "v2" },
		"token":          func(e *eventv1.Event) { e.Metadata[ksGroup+"/token"] = "t2" },
		"message":        func(e *eventv1.Event) { e.Message = "boom again" },
		"name":           func(e *eventv1.Event) { e.InvolvedObject.Name = "apps2" },
		"namespace":      func(e *eventv1.Event) { e.InvolvedObject.Namespace = "tenant" },
		"kind":           func(e *eventv1.Event) { e.InvolvedObject.Kind = "HelmRelease" },
	}
	for name, change := range variants {
		v := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
		change(&v)
		if err := h.d.Submit(v); err != nil {
			t.Errorf("event with another %s: %v", name, err)
		}
	}
	// Fields outside the key do not tell events apart.
	same := ksEvent("flux-system", "apps", eventv1.EventSeverityError, "boom")
	same.Reason = "Other"
	same.Metadata[ksGroup+"/other"] = "x"
	if err := h.d.Submit(same); !errors.Is(err, ErrRateLimited) {
		t.Errorf("same key, other reason: %v, want ErrRateLimited", err)
	}
	clock.add(5*time.Minute - time.Second)
	if err := h.d.Submit(e); !errors.Is(err, ErrRateLimited) {
		t.Errorf("within the interval: %v, want ErrRateLimited", err)
	}
	clock.add(time.Second)
	if err := h.d.Submit(e); err != nil {
		t.Errorf("after the interval: %v", err)
	}
	if n := h.submitted(resultDropped, dropRateLimited); n != 3 {
		t.Errorf("rate_limited count %d, want 3", n)
	}
}

// TestLimiterKeyFields: fields are length-prefixed, so moving text from one
// field to the next changes the key.
func TestLimiterKeyFields(t *testing.T) {
	a := ksEvent("ns", "ab", eventv1.EventSeverityInfo, "c")
	b := ksEvent("ns", "a", eventv1.EventSeverityInfo, "bc")
	if limitKey(&a) == limitKey(&b) {
		t.Error("events differing in name and message share a key")
	}
}

// TestSubmitRefuses: bad events are refused with a clear error and never
// queued; trace events are accepted and not notified; long messages are
// cut.
func TestSubmitRefuses(t *testing.T) {
	h := newHarness(t, nil, nil, nil)
	noName := ksEvent("flux-system", "", eventv1.EventSeverityError, "m")
	if err := h.d.Submit(noName); err == nil || !strings.Contains(err.Error(), "involvedObject") {
		t.Errorf("event without name: %v", err)
	}
	bad := ksEvent("flux-system", "apps", "critical", "m")
	if err := h.d.Submit(bad); err == nil || !strings.Contains(err.Error(), `"critical"`) {
		t.Errorf("unknown severity: %v", err)
	}
	trace := ksEvent("flux-system", "apps", eventv1.EventSeverityTrace, "m")
	if err := h.d.Submit(trace); err != nil {
		t.Errorf("trace: %v", err)
	}
	if n := h.submitted(resultDropped, dropTrace); n != 1 {
		t.Errorf("trace count %d", n)
	}
	long := ksEvent("flux-system", "apps", eventv1.EventSeverityError, strings.Repeat("é", eventv1.MaxMessageLength))
	h.submit(t, long)
	q := <-h.d.shards[shardOf(objectKey(&long), len(h.d.shards))]
	if len(q.event.Message) > eventv1.MaxMessageLength || !strings.HasPrefix(long.Message, q.event.Message) || !utf8Valid(q.event.Message) {
		t.Errorf("long message kept %d bytes, want a valid cut at most %d", len(q.event.Message), eventv1.MaxMessageLength)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
