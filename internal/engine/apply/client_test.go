package apply

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// TestKindClientLimitsEachResourceOnItsOwn gives the client a budget of one
// request per resource (QPS near zero, burst 1): a second kind still gets
// its request through, while a second request for the first kind would have
// to wait far longer than its deadline, which the limiter refuses at once.
func TestKindClientLimitsEachResourceOnItsOwn(t *testing.T) {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 0.001, 1
	c, err := NewKindClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	configmaps := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	if _, err := c.Resource(configmaps).Namespace("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("first configmaps request: %v", err)
	}
	// Bounded, so that a shared budget fails here instead of hanging.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.Resource(secrets).Namespace("default").List(short, metav1.ListOptions{}); err != nil {
		t.Fatalf("first secrets request, on its own budget: %v", err)
	}
	_, err = c.Resource(configmaps).Namespace("default").List(short, metav1.ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "rate") {
		t.Fatalf("second configmaps request: %v, want the rate limiter to refuse it", err)
	}
}
