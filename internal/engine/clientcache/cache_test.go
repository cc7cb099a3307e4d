package clientcache

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// builder counts the builds of each key.
type builder struct {
	mu     sync.Mutex
	builds map[string]int
}

func (b *builder) of(key string) func() (string, error) {
	return func() (string, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.builds == nil {
			b.builds = map[string]int{}
		}
		b.builds[key]++
		return fmt.Sprintf("%s#%d", key, b.builds[key]), nil
	}
}

func get(t *testing.T, c *Cache[string], b *builder, key string) string {
	t.Helper()
	v, err := c.Get(key, b.of(key))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A full cache drops the least recently used identity, not the oldest.
func TestEvictsLeastRecentlyUsedBeyondTheSize(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := New[string](Options{MaxEntries: 2, IdleTimeout: time.Hour, Now: clk.now})
	b := &builder{}
	get(t, c, b, "a")
	get(t, c, b, "b")
	if v := get(t, c, b, "a"); v != "a#1" {
		t.Errorf("a rebuilt while cached: %s", v)
	}
	get(t, c, b, "c") // b is the least recently used
	if c.Len() != 2 {
		t.Errorf("%d entries, want the bound 2", c.Len())
	}
	if v := get(t, c, b, "a"); v != "a#1" {
		t.Errorf("a, used lately, was evicted: %s", v)
	}
	if v := get(t, c, b, "b"); v != "b#2" {
		t.Errorf("b, least recently used, was kept: %s", v)
	}
	// Many identities never hold more than the bound.
	for i := range 100 {
		get(t, c, b, fmt.Sprintf("tenant-%d", i))
	}
	if c.Len() != 2 || c.Builds() != 104 {
		t.Errorf("%d entries after %d builds, want 2 after 104", c.Len(), c.Builds())
	}
}

// An identity unused for the idle timeout is forgotten; one used within it
// is kept, its idle time counted from its last use.
func TestExpiresIdleEntries(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := New[string](Options{MaxEntries: 10, IdleTimeout: 10 * time.Minute, Now: clk.now})
	b := &builder{}
	get(t, c, b, "busy")
	get(t, c, b, "idle")
	clk.t = clk.t.Add(6 * time.Minute)
	get(t, c, b, "busy")
	clk.t = clk.t.Add(6 * time.Minute)
	if c.Len() != 1 {
		t.Errorf("%d entries, want only busy", c.Len())
	}
	if v := get(t, c, b, "busy"); v != "busy#1" {
		t.Errorf("busy was expired although used 6 minutes ago: %s", v)
	}
	if v := get(t, c, b, "idle"); v != "idle#2" {
		t.Errorf("idle for 12 minutes, yet kept: %s", v)
	}
}

// Concurrent Gets of one key build once; a failed build is not kept.
func TestBuildsOncePerKeyAndForgetsFailures(t *testing.T) {
	c := New[string](Options{})
	b := &builder{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Get("shared", b.of("shared"))
		}()
	}
	wg.Wait()
	if b.builds["shared"] != 1 {
		t.Errorf("built %d times, want once", b.builds["shared"])
	}
	if _, err := c.Get("broken", func() (string, error) { return "", errors.New("no route") }); err == nil {
		t.Fatal("the build's error was lost")
	}
	if v := get(t, c, b, "broken"); v != "broken#1" {
		t.Errorf("the failed build was kept: %q", v)
	}
}

// The key tells identities apart by server, credentials and impersonation,
// and prints no credential.
func TestKeyIsTheIdentity(t *testing.T) {
	base := rest.Config{Host: "https://remote:6443", BearerToken: "token-one", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}}
	variants := map[string]func(*rest.Config){
		"host":        func(c *rest.Config) { c.Host = "https://other:6443" },
		"token":       func(c *rest.Config) { c.BearerToken = "token-two" },
		"client cert": func(c *rest.Config) { c.CertData = []byte("cert") },
		"CA":          func(c *rest.Config) { c.CAData = []byte("other ca") },
		"user":        func(c *rest.Config) { c.Impersonate.UserName = "system:serviceaccount:team:deploy" },
		"groups":      func(c *rest.Config) { c.Impersonate.Groups = []string{"system:masters"} },
		"extra key":   func(c *rest.Config) { c.Impersonate.Extra = map[string][]string{"system:masters": nil} },
		"timeout":     func(c *rest.Config) { c.Timeout = time.Second },
	}
	seen := map[string]string{Key(&base): "base"}
	for name, change := range variants {
		cfg := base
		change(&cfg)
		k := Key(&cfg)
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share a key", name, other)
		}
		seen[k] = name
		if strings.Contains(k, "token") {
			t.Errorf("key %q shows a credential", k)
		}
	}
	same := base
	same.QPS = 99 // not the identity
	if Key(&same) != Key(&base) {
		t.Error("QPS changed the identity")
	}
}
