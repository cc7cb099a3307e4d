package manager

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
)

// selfSigned writes a certificate and key for localhost into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestWebTLSConfig(t *testing.T) {
	if cfg, err := webTLSConfig(WebOptions{}, nil); cfg != nil || err != nil {
		t.Errorf("no TLS flags: %v %v, want plain HTTP", cfg, err)
	}
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	cfg, err := webTLSConfig(WebOptions{TLSCert: cert, TLSKey: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.GetCertificate == nil || cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("TLS config: min %x, client auth %v", cfg.MinVersion, cfg.ClientAuth)
	}
	if _, err := webTLSConfig(WebOptions{TLSCert: cert, TLSKey: filepath.Join(dir, "missing")}, nil); err == nil || !strings.Contains(err.Error(), "--web-tls-key") {
		t.Errorf("a missing key: %v", err)
	}
}

// TestWebServerClosesStreamsOnStop: a stream that would run for ever ends
// as the manager's context does, and Start returns well within the bound.
func TestWebServerClosesStreamsOnStop(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	streaming, ended := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(streaming)
		<-r.Context().Done()
		close(ended)
	})
	srv := &webServer{listener: l, handler: h, log: logr.Discard()}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Start(ctx) }()
	resp, err := http.Get("http://" + l.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-streaming
	start := time.Now()
	cancel()
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
		t.Fatal("the stream did not end when the manager stopped")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Start: %v", err)
		}
	case <-time.After(webShutdownBound + time.Second):
		t.Fatal("Start did not return after the manager stopped")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopping took %s with one open stream", d)
	}
	if _, err := http.Get("http://" + l.Addr().String() + "/"); err == nil {
		t.Error("the server still answers after Start returned")
	}
}

// TestWebTLSCertificateIsReloaded: a renewed pair is served without a
// restart, and a broken renewal keeps the last good one.
func TestWebTLSCertificateIsReloaded(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	cfg, err := webTLSConfig(WebOptions{TLSCert: certFile, TLSKey: keyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := cfg.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := cfg.GetCertificate(nil)
	if again != first {
		t.Error("an unchanged pair was loaded again")
	}
	renewed := t.TempDir()
	newCert, newKey := selfSigned(t, renewed)
	for src, dst := range map[string]string{newCert: certFile, newKey: keyFile} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(dst, later, later); err != nil {
			t.Fatal(err)
		}
	}
	second, err := cfg.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(second.Certificate[0]) == string(first.Certificate[0]) {
		t.Error("the renewed certificate is not served")
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Minute)
	_ = os.Chtimes(keyFile, later, later)
	if got, err := cfg.GetCertificate(nil); err != nil || got != second {
		t.Errorf("a broken renewal: %v, %v; want the last good certificate", got, err)
	}
}

// TestWebServesTLS12AndLater serves a page over TLS and refuses TLS 1.1.
func TestWebServesTLS12AndLater(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	cfg, err := webTLSConfig(WebOptions{TLSCert: certFile, TLSKey: keyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &webServer{listener: tls.NewListener(l, cfg), log: logr.Discard(),
		handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Start(ctx) }()
	pem, _ := os.ReadFile(certFile)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	for _, tc := range []struct {
		max uint16
		ok  bool
	}{{tls.VersionTLS12, true}, {tls.VersionTLS13, true}, {tls.VersionTLS11, false}} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost",
			MinVersion: tls.VersionTLS10, MaxVersion: tc.max}}}
		resp, err := c.Get("https://" + l.Addr().String() + "/")
		if (err == nil) != tc.ok {
			t.Errorf("TLS up to %x: error %v, want ok=%t", tc.max, err, tc.ok)
		}
		if err == nil {
			resp.Body.Close()
		}
	}
}

// TestWebAddrTakenFailsTheStart: the port is bound while the manager is
// built, so a taken --web-addr is a start-up error naming the flag, not a
// replica that runs without its UI.
func TestWebAddrTakenFailsTheStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	opts := Options{HealthAddr: "0", MetricsAddr: "0", LogEncoding: "console", LogLevel: "info", SeveralManagersPerProcess: true,
		Web: WebOptions{Addr: taken.Addr().String(), MaxStreams: 1}}
	_, err = New(&rest.Config{Host: "http://127.0.0.1:1"}, opts, nil, logr.Discard())
	if err == nil || !strings.Contains(err.Error(), "--web-addr") {
		t.Errorf("a taken --web-addr: %v, want an error naming the flag", err)
	}
}
