package ocitest

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// prepare writes the files the configuration points to and sets up the
// clients' TLS.
func (r *Registry) prepare() error {
	if err := os.MkdirAll(r.StorageDir, 0o755); err != nil {
		return err
	}
	if r.opts.TLS {
		r.CA = r.opts.CA
		if r.CA == nil {
			r.CA = testca.New("ocitest CA")
		}
		r.CAPEM = r.CA.CertPEM
		server := r.CA.Server(r.opts.Hosts...)
		if err := r.writeFiles(map[string][]byte{"ca.crt": r.CAPEM, "tls.crt": server.CertPEM, "tls.key": server.KeyPEM}); err != nil {
			return err
		}
		r.tlsConfig = &tls.Config{RootCAs: r.CA.Pool(), MinVersion: tls.VersionTLS12}
		if r.opts.ClientCert {
			client := r.CA.Client("ocitest client")
			r.ClientCertPEM, r.ClientKeyPEM = client.CertPEM, client.KeyPEM
			r.tlsConfig.Certificates = []tls.Certificate{client.TLSCertificate()}
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = r.TLSConfig()
	r.client = &http.Client{Transport: transport, Timeout: 30 * time.Second}

	if r.opts.Auth == NoAuth {
		return nil
	}
	r.Username, r.Password = r.opts.Username, r.opts.Password
	if r.Username == "" {
		r.Username = "ocitest"
	}
	if r.Password == "" {
		r.Password = randomHex(12)
	}
	switch r.opts.Auth {
	case BasicAuth:
		hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.MinCost)
		if err != nil {
			return fmt.Errorf("hash the htpasswd password: %w", err)
		}
		return r.writeFiles(map[string][]byte{"htpasswd": []byte(r.Username + ":" + string(hash) + "\n")})
	case TokenAuth:
		ts, err := newTokenServer(r.CA, r.Username, r.Password, r.opts.AnonymousPull)
		if err != nil {
			return err
		}
		r.TokenServer = ts
		return r.writeFiles(map[string][]byte{"token-root.crt": ts.rootPEM})
	}
	return fmt.Errorf("unknown auth %v", r.opts.Auth)
}

func (r *Registry) writeFiles(files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(r.dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// config is the registry's configuration file (version 0.1, read alike
// by distribution v3 and Debian's docker-registry 2.8).
func (r *Registry) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %q
  secret: %q
`, r.StorageDir, r.Host, randomHex(16))
	if r.opts.TLS {
		fmt.Fprintf(&b, `  tls:
    certificate: %q
    key: %q
`, filepath.Join(r.dir, "tls.crt"), filepath.Join(r.dir, "tls.key"))
		if r.opts.ClientCert {
			fmt.Fprintf(&b, "    clientcas:\n      - %q\n", filepath.Join(r.dir, "ca.crt"))
		}
	}
	switch r.opts.Auth {
	case BasicAuth:
		fmt.Fprintf(&b, `auth:
  htpasswd:
    realm: ocitest
    path: %q
`, filepath.Join(r.dir, "htpasswd"))
	case TokenAuth:
		fmt.Fprintf(&b, `auth:
  token:
    realm: %q
    service: %q
    issuer: %q
    rootcertbundle: %q
`, r.TokenServer.Realm, r.TokenServer.Service, r.TokenServer.Issuer, filepath.Join(r.dir, "token-root.crt"))
	}
	return b.String()
}
