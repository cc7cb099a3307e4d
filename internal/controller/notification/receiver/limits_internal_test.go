package receiver

import (
	"sync/atomic"
	"testing"
	"time"

	notificationv1 "github.com/driftless/driftless/api/notification/v1"
)

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(5, 20)
	now := time.Unix(1000, 0)
	for i := range 20 {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.allow("a", now)
	if ok || wait <= 0 || wait > 200*time.Millisecond {
		t.Fatalf("past the burst: allowed %v, wait %v; want refused with a wait of at most 200ms", ok, wait)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Fatal("another Receiver shares the first one's bucket")
	}
	later := now.Add(time.Second)
	n := 0
	for {
		if ok, _ := l.allow("a", later); !ok {
			break
		}
		n++
	}
	if n != 5 {
		t.Fatalf("%d requests a second later, want 5", n)
	}
}

// A burst of requests for one object costs the first patch and one more at
// the end of the interval, which the requests between share.
func TestCoalescer(t *testing.T) {
	c := newCoalescer(50 * time.Millisecond)
	var patches atomic.Int32
	done := make(chan struct{}, 10)
	patch := func() error { patches.Add(1); done <- struct{}{}; return nil }
	for range 10 {
		if err := c.do("obj", patch, nil); err != nil {
			t.Fatal(err)
		}
	}
	<-done // the first, at once
	if got := patches.Load(); got != 1 {
		t.Fatalf("%d patches at once, want 1", got)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no trailing patch after the burst")
	}
	if got := patches.Load(); got != 2 {
		t.Fatalf("%d patches after the trailing one, want 2", got)
	}
	// A request right after the trailing patch gets one of its own too.
	if err := c.do("obj", patch, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the last request was not followed by a patch")
	}
	if got := patches.Load(); got != 3 {
		t.Fatalf("%d patches, want 3", got)
	}
}

func TestReadyOnlyOnceStarted(t *testing.T) {
	s := &server{}
	if err := s.readyCheck(nil); err == nil {
		t.Fatal("ready before the cache synced")
	}
	s.ready.Store(true)
	if err := s.readyCheck(nil); err != nil {
		t.Fatal(err)
	}
}

func TestFluxVersions(t *testing.T) {
	for kind, want := range map[string]string{
		"GitRepository": "source.toolkit.fluxcd.io/v1", "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
		"HelmRelease": "helm.toolkit.fluxcd.io/v2", "ImagePolicy": "image.toolkit.fluxcd.io/v1",
	} {
		if got, ok := fluxVersion(kind); !ok || got != want {
			t.Errorf("%s: %q, want %q", kind, got, want)
		}
	}
	if _, ok := fluxVersion("Secret"); ok {
		t.Error("Secret taken for a Flux kind")
	}
}

// A resource can name only a Flux kind in its Flux group: apiVersion
// cannot turn "GitRepository" into another group's object.
func TestResourceGVK(t *testing.T) {
	ref := func(apiVersion, kind string) notificationv1.ReceiverResource {
		return notificationv1.ReceiverResource{CrossNamespaceObjectReference: notificationv1.CrossNamespaceObjectReference{APIVersion: apiVersion, Kind: kind, Name: "x"}}
	}
	gvk, err := resourceGVK(ref("", "GitRepository"))
	if err != nil || gvk.GroupVersion().String() != "source.toolkit.fluxcd.io/v1" {
		t.Fatalf("default: %v %v", gvk, err)
	}
	gvk, err = resourceGVK(ref("source.toolkit.fluxcd.io/v1beta2", "GitRepository"))
	if err != nil || gvk.Version != "v1beta2" {
		t.Fatalf("an older Flux version: %v %v", gvk, err)
	}
	for _, bad := range []notificationv1.ReceiverResource{ref("v1", "GitRepository"), ref("evil.example.com/v1", "Kustomization"), ref("", "Secret")} {
		if _, err := resourceGVK(bad); err == nil {
			t.Errorf("%s %s accepted", bad.APIVersion, bad.Kind)
		}
	}
}
