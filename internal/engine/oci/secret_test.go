package oci

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// resolved returns the user and password the keychain gives for ref.
func resolved(t *testing.T, kc authn.Keychain, ref string) (string, string) {
	t.Helper()
	repo, err := name.NewRepository(ref)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.Resolve(repo)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Authorization()
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Username, cfg.Password
}

func TestKeychainFromDockerConfig(t *testing.T) {
	cfg := `{"auths": {
		"ghcr.io": {"auth": "` + b64("ghuser:ghpass") + `"},
		"ghcr.io/team-b": {"username": "teamb", "password": "bpass"},
		"https://index.docker.io/v1/": {"auth": "` + b64("hubuser:hub:pass") + `"},
		"http://localhost:5000": {"username": "local", "password": "lpass"},
		"*.example.com": {"username": "wild", "password": "wpass"}
	}}`
	kc, err := KeychainFromDockerConfig(map[string][]byte{DockerConfigJSONKey: []byte(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, user, pass string }{
		{"ghcr.io/team-a/app", "ghuser", "ghpass"},
		{"ghcr.io/team-b/app", "teamb", "bpass"},
		{"ghcr.io/team-bc/app", "ghuser", "ghpass"}, // a path prefix matches whole segments
		{"docker.io/library/nginx", "hubuser", "hub:pass"},
		{"localhost:5000/app", "local", "lpass"},
		{"registry.example.com/app", "wild", "wpass"},
		{"a.b.example.com/app", "", ""}, // a wildcard is one label
		{"quay.io/app", "", ""},
	} {
		u, p := resolved(t, kc, tc.ref)
		if u != tc.user || p != tc.pass {
			t.Errorf("%s: got %q/%q, want %q/%q", tc.ref, u, p, tc.user, tc.pass)
		}
	}
}

func TestKeychainFromLegacyDockercfg(t *testing.T) {
	kc, err := KeychainFromDockerConfig(map[string][]byte{DockerConfigKey: []byte(`{"quay.io": {"auth": "` + b64("q:qp") + `", "email": "a@b"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if u, p := resolved(t, kc, "quay.io/org/app"); u != "q" || p != "qp" {
		t.Errorf("got %q/%q", u, p)
	}
}

func TestKeychainFromDockerConfigErrors(t *testing.T) {
	const secret = "hunter2-secret"
	for _, tc := range []struct {
		data map[string][]byte
		want string
	}{
		{map[string][]byte{"username": []byte("x")}, "secret has neither .dockerconfigjson nor .dockercfg"},
		{map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"ghcr.io": {"auth": "` + secret + `"`)}, "secret key .dockerconfigjson is not a docker config.json"},
		{map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"ghcr.io": {"auth": 12}}, "x": "` + secret + `"}`)}, `field "auths.auth" has the wrong type`},
		{map[string][]byte{DockerConfigJSONKey: []byte(`{"credsStore": "` + secret + `"}`)}, `has no "auths" object`},
		{map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"ghcr.io": {"auth": "` + secret + `!"}}}`)}, `registry "ghcr.io": field "auth" is not base64`},
		{map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"ghcr.io": {"auth": "` + b64(secret) + `"}}}`)}, `field "auth" is not base64 of username:password`},
		{map[string][]byte{DockerConfigJSONKey: []byte(`{"auths": {"ghcr.io": {"email": "` + secret + `"}}}`)}, `registry "ghcr.io": no credentials`},
		{map[string][]byte{DockerConfigKey: []byte(`[` + secret)}, "secret key .dockercfg is not a docker config"},
	} {
		_, err := KeychainFromDockerConfig(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q shows a secret value", err)
		}
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, all PEM.
type testPKI struct {
	caPEM, serverCert, serverKey, clientCert, clientKey []byte
	ca                                                  *x509.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{ca: ca, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	leaf := func(serial int64, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	}
	p.serverCert, p.serverKey = leaf(2, x509.ExtKeyUsageServerAuth, true)
	p.clientCert, p.clientKey = leaf(3, x509.ExtKeyUsageClientAuth, false)
	return p
}

func TestTLSConfigFromSecret(t *testing.T) {
	pki := newTestPKI(t)
	cfg, err := TLSConfigFromSecret(map[string][]byte{CAKey: pki.caPEM})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 0 {
		t.Errorf("ca.crt only: %+v", cfg)
	}
	cfg, err = TLSConfigFromSecret(map[string][]byte{CertKey: pki.clientCert, KeyKey: pki.clientKey})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs != nil || len(cfg.Certificates) != 1 {
		t.Errorf("client certificate only: %+v", cfg)
	}

	for _, tc := range []struct {
		data map[string][]byte
		want string
	}{
		{map[string][]byte{"other": []byte("x")}, "secret has none of ca.crt, tls.crt and tls.key"},
		{map[string][]byte{CertKey: pki.clientCert}, "secret has tls.crt but no tls.key"},
		{map[string][]byte{KeyKey: pki.clientKey}, "secret has tls.key but no tls.crt"},
		{map[string][]byte{CertKey: pki.clientCert, KeyKey: pki.serverKey}, "secret keys tls.crt and tls.key are not a PEM certificate and its private key"},
		{map[string][]byte{CAKey: []byte("not pem")}, "secret key ca.crt holds no PEM certificate"},
	} {
		_, err := TLSConfigFromSecret(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("error %q shows key material", err)
		}
	}
}

func TestProxyFromSecret(t *testing.T) {
	u, err := ProxyFromSecret(map[string][]byte{ProxyAddressKey: []byte("http://proxy.example:8080"), ProxyUsernameKey: []byte("u"), ProxyPasswordKey: []byte("p@ss")})
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); u.Host != "proxy.example:8080" || u.User.Username() != "u" || pw != "p@ss" {
		t.Errorf("proxy = %v", u.Redacted())
	}
	u, err = ProxyFromSecret(map[string][]byte{ProxyAddressKey: []byte("socks5://proxy.example:1080")})
	if err != nil || u.User != nil {
		t.Fatalf("proxy = %v, %v", u, err)
	}
	for _, tc := range []struct {
		data map[string][]byte
		want string
	}{
		{map[string][]byte{}, "secret has no address"},
		{map[string][]byte{ProxyAddressKey: []byte("proxy-s3cret:8080")}, "secret key address is not a URL"},
		{map[string][]byte{ProxyAddressKey: []byte("ftp://proxy.example")}, `scheme "ftp" is not supported`},
		{map[string][]byte{ProxyAddressKey: []byte("http://proxy.example"), ProxyPasswordKey: []byte("s3cret")}, "secret has password but no username"},
		{map[string][]byte{ProxyAddressKey: []byte("http://a:s3cret@proxy.example"), ProxyUsernameKey: []byte("b")}, "already carries credentials"},
	} {
		_, err := ProxyFromSecret(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error %q shows a secret value", err)
		}
	}
}

func TestAuthFromCreds(t *testing.T) {
	a, err := AuthFromCreds("user:pa:ss")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := a.Authorization(); cfg.Username != "user" || cfg.Password != "pa:ss" {
		t.Errorf("basic: %+v", cfg)
	}
	a, err = AuthFromCreds("tok3n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := a.Authorization(); cfg.RegistryToken != "tok3n" || cfg.Username != "" {
		t.Errorf("token: %+v", cfg)
	}
	for _, bad := range []string{"", ":s3cret"} {
		_, err := AuthFromCreds(bad)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("AuthFromCreds(%q) = %v", bad, err)
		}
	}
}
