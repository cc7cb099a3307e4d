package gittest

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// HTTPProxy is a forward HTTP proxy on 127.0.0.1 that handles plain requests
// and CONNECT tunnels, optionally behind Proxy-Authorization basic auth.
type HTTPProxy struct {
	// URL is the proxy's address, the `address` value of a proxy secret.
	URL string

	username, password string
	forwarded          atomic.Int64
	wg                 sync.WaitGroup
	mu                 sync.Mutex
	tunnels            []net.Conn
}

// NewHTTPProxy starts a proxy; username "" disables proxy authentication.
func NewHTTPProxy(t testing.TB, username, password string) *HTTPProxy {
	t.Helper()
	p := &HTTPProxy{username: username, password: password}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.URL = pr.In.URL },
		Transport: &http.Transport{Proxy: nil},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.authorized(r) {
			w.Header().Set("Proxy-Authenticate", `Basic realm="gittest proxy"`)
			http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
		p.forwarded.Add(1)
		if r.Method == http.MethodConnect {
			p.tunnel(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		p.mu.Lock()
		for _, c := range p.tunnels {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	p.URL = srv.URL
	return p
}

// Forwarded counts the requests and tunnels the proxy let through.
func (p *HTTPProxy) Forwarded() int { return int(p.forwarded.Load()) }

func (p *HTTPProxy) authorized(r *http.Request) bool {
	if p.username == "" {
		return true
	}
	enc, ok := strings.CutPrefix(r.Header.Get("Proxy-Authorization"), "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return false
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	return equal(user, p.username) && equal(pass, p.password)
}

func (p *HTTPProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	upstream, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = upstream.Close()
		http.Error(w, "hijacking unsupported", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	p.mu.Lock()
	p.tunnels = append(p.tunnels, client, upstream)
	p.mu.Unlock()
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(upstream, buf)
		_ = upstream.(*net.TCPConn).CloseWrite()
	}()
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(client, upstream)
		_ = client.Close()
		_ = upstream.Close()
	}()
}
