package reconcile

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMetricsShareOneCollectorPerRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "n", Namespace: "ns"}}
	a.ObserveDuration("GitRepository", obj, time.Second)
	b.ObserveDuration("GitRepository", obj, time.Second)
	if n := testutil.CollectAndCount(reg, "gotk_reconcile_duration_seconds"); n != 1 {
		t.Fatalf("want one series, got %d", n)
	}
	a.CacheEvent(obj, false)
	b.CacheEvent(obj, true)
	b.CacheEvent(obj, true)
	if got := testutil.ToFloat64(a.cacheEvents.WithLabelValues(CacheHit, "n", "ns")); got != 2 {
		t.Errorf("cache hits %v, want 2", got)
	}
	if got := testutil.ToFloat64(b.cacheEvents.WithLabelValues(CacheMiss, "n", "ns")); got != 1 {
		t.Errorf("cache misses %v, want 1", got)
	}
	var nilMetrics *Metrics
	nilMetrics.ObserveDuration("GitRepository", obj, time.Second) // must not panic
	nilMetrics.CacheEvent(obj, true)
}

func TestJitterStaysWithinPercent(t *testing.T) {
	o := RetryOptions{JitterPercent: 5}
	for i := 0; i < 1000; i++ {
		d := o.Jitter(time.Minute)
		if d < 57*time.Second || d > 63*time.Second {
			t.Fatalf("jitter %s outside ±5%% of 1m", d)
		}
	}
	if d := (RetryOptions{}).Jitter(time.Minute); d != time.Minute {
		t.Errorf("no jitter configured, got %s", d)
	}
}

func TestReasonOfTypedErrors(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{Stalling("URLInvalid", "bad"), "URLInvalid"},
		{Waiting("DependencyNotReady", time.Second, "wait"), "DependencyNotReady"},
		{Failed("GitOperationFailed", "x"), "GitOperationFailed"},
		{wrap(Failed("AuthenticationFailed", "x")), "AuthenticationFailed"},
		{errPlain, "Failed"},
	}
	for _, c := range cases {
		if got := reasonOf(c.err, "Failed"); got != c.want {
			t.Errorf("reasonOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

var errPlain = errorString("plain")

type errorString string

func (e errorString) Error() string { return string(e) }

func wrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "context: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
