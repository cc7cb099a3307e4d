package informerstore_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/driftless/driftless/internal/testkit/testcluster"
	"github.com/driftless/driftless/internal/web/informerstore"
)

// cutProxy forwards TCP to the API server until cut, then refuses and
// drops every connection: the API server going away under `flux ui`.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { p.setCut(true); _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				_ = c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
	}
}

// TestProblemWhenTheAPIServerGoesAway cuts the store's connection: Problem
// says the API server is not answering, and clears once it answers again.
func TestProblemWhenTheAPIServerGoesAway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := env.Namespace(t)
	createKustomization(t, ns, "kept")

	u, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	cfg := rest.CopyConfig(env.Config)
	cfg.Host = "https://" + proxy.ln.Addr().String()
	if cfg.TLSClientConfig.ServerName == "" {
		cfg.TLSClientConfig.ServerName = u.Hostname()
	}
	st, err := informerstore.Start(ctx, informerstore.Options{Config: cfg, Namespaces: []string{ns}})
	if err != nil {
		t.Fatal(err)
	}
	if p := st.Problem(); p != "" {
		t.Fatalf("Problem before the cut: %q", p)
	}
	proxy.setCut(true)
	testcluster.Eventually(t, 30*time.Second, "Problem to say the API server is not answering", func() (bool, error) {
		return strings.Contains(st.Problem(), "the API server is not answering"), nil
	})
	proxy.setCut(false)
	testcluster.Eventually(t, 30*time.Second, "Problem to clear once the API server answers", func() (bool, error) {
		return st.Problem() == "", nil
	})
}
