package testca

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServerCertificateNames(t *testing.T) {
	ca := New("test CA")
	server := ca.Server("registry.test", "10.1.2.3")
	if server.Cert.Subject.CommonName != "registry.test" {
		t.Errorf("common name %q, want the first host", server.Cert.Subject.CommonName)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost", "registry.test", "10.1.2.3"} {
		_, err := server.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := server.Cert.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: ca.Pool()}); err == nil {
		t.Error("the certificate verifies for other.test, a name it was not issued for")
	}
	if _, err := server.Cert.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: New("another CA").Pool()}); err == nil {
		t.Error("the certificate verifies under another CA")
	}
}

func TestPEMForms(t *testing.T) {
	ca := New("test CA")
	client := ca.Client("someone")
	if _, err := tls.X509KeyPair(client.CertPEM, client.KeyPEM); err != nil {
		t.Fatalf("the PEM pair does not load: %v", err)
	}
	block, _ := pem.Decode(ca.CertPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CA PEM: %q", ca.CertPEM)
	}
	if !ca.Cert.IsCA {
		t.Error("the CA certificate is not a CA")
	}
	signer := ca.Signer("token signer")
	if _, err := signer.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("the signing certificate does not chain to the CA: %v", err)
	}
}

func TestMutualTLSHandshake(t *testing.T) {
	ca := New("test CA")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server().TLSCertificate()},
		ClientCAs:    ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()

	get := func(cfg *tls.Config) (string, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(srv.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	body, err := get(&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{ca.Client("alice").TLSCertificate()}})
	if err != nil || body != "alice" {
		t.Fatalf("with the client certificate: %q, %v; want alice", body, err)
	}
	if _, err := get(&tls.Config{RootCAs: ca.Pool()}); err == nil {
		t.Error("the handshake succeeded without a client certificate")
	}
	other := New("other CA")
	if _, err := get(&tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{other.Client("mallory").TLSCertificate()}}); err == nil {
		t.Error("a client certificate from another CA was accepted")
	}
	if _, err := get(&tls.Config{RootCAs: other.Pool()}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client trusting another CA: %v, want a certificate error", err)
	}
}
