package pki

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ensure(t *testing.T, dir string, now time.Time) *Credentials {
	t.Helper()
	c, err := Ensure(dir, net.ParseIP("10.96.0.1"), now)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return c
}

func TestServingCertificateNames(t *testing.T) {
	c := ensure(t, t.TempDir(), testNow)
	cert := c.APIServer.Cert
	wantDNS := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	for _, name := range wantDNS {
		if !slices.Contains(cert.DNSNames, name) {
			t.Errorf("serving certificate lacks DNS name %q; has %v", name, cert.DNSNames)
		}
	}
	for _, ip := range []string{"127.0.0.1", "10.96.0.1"} {
		if !slices.ContainsFunc(cert.IPAddresses, func(got net.IP) bool { return got.Equal(net.ParseIP(ip)) }) {
			t.Errorf("serving certificate lacks IP %s; has %v", ip, cert.IPAddresses)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.CA.Cert)
	for _, host := range append(wantDNS, "127.0.0.1", "10.96.0.1") {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("verify serving certificate for %s: %v", host, err)
		}
	}
}

func TestClientIdentities(t *testing.T) {
	c := ensure(t, t.TempDir(), testNow)
	pool := x509.NewCertPool()
	pool.AddCert(c.CA.Cert)
	for _, tc := range []struct {
		name string
		kp   *KeyPair
		cn   string
		org  []string
	}{
		{name: "admin", kp: c.Admin, cn: "localcluster-admin", org: []string{"system:masters"}},
		{name: "controller-manager", kp: c.ControllerManager, cn: "system:kube-controller-manager"},
		{name: "scheduler", kp: c.Scheduler, cn: "system:kube-scheduler"},
		{name: "kwok", kp: c.KWOK, cn: "localcluster-kwok", org: []string{"system:masters"}},
		{name: "front-proxy", kp: c.FrontProxy, cn: "front-proxy-client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := tc.kp.Cert
			if cert.Subject.CommonName != tc.cn || !slices.Equal(cert.Subject.Organization, tc.org) {
				t.Errorf("subject = %q %v, want %q %v", cert.Subject.CommonName, cert.Subject.Organization, tc.cn, tc.org)
			}
			_, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			if err != nil {
				t.Errorf("verify as client certificate: %v", err)
			}
		})
	}
}

func TestEnsureReusesStoredCredentials(t *testing.T) {
	dir := t.TempDir()
	first := ensure(t, dir, testNow)
	saKey, err := os.ReadFile(first.ServiceAccountKey)
	if err != nil {
		t.Fatal(err)
	}
	second := ensure(t, dir, testNow.Add(24*time.Hour))
	if !first.CA.Cert.Equal(second.CA.Cert) || !first.APIServer.Cert.Equal(second.APIServer.Cert) || !first.Admin.Cert.Equal(second.Admin.Cert) {
		t.Error("a second Ensure replaced valid certificates")
	}
	saKey2, err := os.ReadFile(second.ServiceAccountKey)
	if err != nil {
		t.Fatal(err)
	}
	if string(saKey) != string(saKey2) {
		t.Error("a second Ensure replaced the service-account key")
	}
}

func TestEnsureReplacesWhatNoLongerFits(t *testing.T) {
	t.Run("new CA reissues leaves", func(t *testing.T) {
		dir := t.TempDir()
		first := ensure(t, dir, testNow)
		if err := os.Remove(filepath.Join(dir, "ca.key")); err != nil {
			t.Fatal(err)
		}
		second := ensure(t, dir, testNow)
		if first.CA.Cert.Equal(second.CA.Cert) {
			t.Fatal("CA was not replaced")
		}
		if err := second.Admin.Cert.CheckSignatureFrom(second.CA.Cert); err != nil {
			t.Errorf("admin certificate not reissued by the new CA: %v", err)
		}
	})
	t.Run("changed service IP reissues the serving certificate", func(t *testing.T) {
		dir := t.TempDir()
		first := ensure(t, dir, testNow)
		second, err := Ensure(dir, net.ParseIP("10.0.0.1"), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if first.APIServer.Cert.Equal(second.APIServer.Cert) {
			t.Error("serving certificate kept although its names changed")
		}
		if !first.Admin.Cert.Equal(second.Admin.Cert) {
			t.Error("admin certificate replaced needlessly")
		}
	})
	t.Run("expiring certificate is renewed", func(t *testing.T) {
		dir := t.TempDir()
		first := ensure(t, dir, testNow)
		later := first.Admin.Cert.NotAfter.Add(-24 * time.Hour)
		second := ensure(t, dir, later)
		if first.Admin.Cert.Equal(second.Admin.Cert) {
			t.Error("certificate expiring within a day was kept")
		}
	})
	t.Run("corrupt file is replaced", func(t *testing.T) {
		dir := t.TempDir()
		ensure(t, dir, testNow)
		if err := os.WriteFile(filepath.Join(dir, "admin.crt"), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		second := ensure(t, dir, testNow)
		if second.Admin.Cert.Subject.CommonName != "localcluster-admin" {
			t.Errorf("admin certificate not regenerated: %v", second.Admin.Cert.Subject)
		}
	})
}

func TestKubeconfig(t *testing.T) {
	c := ensure(t, t.TempDir(), testNow)
	data, err := Kubeconfig("https://127.0.0.1:6443", "localcluster", c.CA.CertPEM, c.Admin)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatalf("parse kubeconfig: %v", err)
	}
	if cfg.Host != "https://127.0.0.1:6443" {
		t.Errorf("host = %q", cfg.Host)
	}
	if string(cfg.CAData) != string(c.CA.CertPEM) || string(cfg.CertData) != string(c.Admin.CertPEM) || string(cfg.KeyData) != string(c.Admin.KeyPEM) {
		t.Error("kubeconfig does not embed the CA and the admin key pair")
	}
}
