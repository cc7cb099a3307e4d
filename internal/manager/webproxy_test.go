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
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	"github.com/driftless/driftless/internal/web"
)

// clientCA writes a CA's certificate to dir/ca.crt and returns the file
// and a client certificate it signed, named cn.
func clientCA(t *testing.T, dir, cn string) (string, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxy-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestWebAuthProxyOverTLS serves the UI as the controller would with
// --web-auth-proxy-ca: the proxy's client certificate makes its headers
// the visitor; without it, or with another CA's, they count for nothing.
func TestWebAuthProxyOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	caFile, proxyCert := clientCA(t, t.TempDir(), "front-proxy")
	_, otherCert := clientCA(t, t.TempDir(), "front-proxy")
	opts := parse(t, "--web-addr=127.0.0.1:0", "--web-tls-cert="+certFile, "--web-tls-key="+keyFile,
		"--web-auth-proxy-ca="+caFile, "--web-auth-proxy-allowed-names=front-proxy")
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	opts.Web.Hosts = []string{"localhost"}
	proxy, err := webAuthProxy(opts.Web)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := webTLSConfig(opts.Web, proxy)
	if err != nil {
		t.Fatal(err)
	}
	store := web.NewMemoryStore(&kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "visible-app"}})
	wo := webServerOptions(opts, store, &rest.Config{Host: "https://127.0.0.1:1"}, tokenReviews{}, accessReviews{}, proxy, logr.Discard())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &webServer{listener: tls.NewListener(l, cfg), handler: web.New(wo), log: logr.Discard()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = srv.Start(ctx) }()

	serverPEM, _ := os.ReadFile(certFile)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverPEM)
	get := func(cert *tls.Certificate) (int, string, error) {
		tc := &tls.Config{RootCAs: roots, ServerName: "localhost"}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
		req, _ := http.NewRequest(http.MethodGet, "https://localhost:"+strings.Split(l.Addr().String(), ":")[1]+"/", nil)
		req.Header.Set("X-Remote-User", "system:serviceaccount:team-a:editor")
		req.Header.Add("X-Remote-Group", "system:authenticated")
		c.Transport.(*http.Transport).DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr().String())
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}

	code, body, err := get(&proxyCert)
	if err != nil || code != http.StatusOK || !strings.Contains(body, "visible-app") || !strings.Contains(body, "system:serviceaccount:team-a:editor") {
		t.Errorf("through the proxy: %d %v, want the editor's overview\n%s", code, err, body)
	}
	code, body, err = get(nil)
	if err != nil || code != http.StatusUnauthorized || strings.Contains(body, "visible-app") {
		t.Errorf("the proxy's headers without its certificate: %d %v, want the login page\n%s", code, err, body)
	}
	if code, _, err := get(&otherCert); err == nil {
		t.Errorf("a client certificate of another CA: %d, want the handshake refused", code)
	}
}

func TestWebAuthProxyFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--web-addr=:9080", "--web-auth-proxy-ca=/ca.crt"}, "--web-auth-proxy-ca needs --web-tls-cert"},
		{[]string{"--web-addr=:9080", "--web-tls-cert=a", "--web-tls-key=b", "--web-auth-proxy-allowed-names=p"}, "--web-auth-proxy-allowed-names needs --web-auth-proxy-ca"},
	} {
		if err := parse(t, tc.args...).Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := webAuthProxy(WebOptions{AuthProxyCA: filepath.Join(t.TempDir(), "missing")}); err == nil || !strings.Contains(err.Error(), "--web-auth-proxy-ca") {
		t.Errorf("a missing CA file: %v", err)
	}
}
