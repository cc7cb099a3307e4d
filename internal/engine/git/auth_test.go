package git

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

func TestAuthFromSecret(t *testing.T) {
	key := gittest.GenerateSSHKey(t)
	encrypted := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "key-passphrase"})
	srv := gittest.NewHTTPServer(t, t.TempDir(), gittest.HTTPOptions{RequireClientCert: true})
	cert, certKey := srv.ClientCertificate()
	otherCert, _ := srv.ClientCertificate()
	knownHosts := []byte("[127.0.0.1]:2222 " + key.AuthorizedKey)

	tests := []struct {
		name    string
		url     string
		data    map[string][]byte
		want    error
		message string
		kinds   string
	}{
		{name: "empty https", url: "https://h/r.git", data: nil, kinds: "no credentials"},
		{name: "basic", url: "https://h/r.git", data: map[string][]byte{"username": []byte("u"), "password": []byte("s3cr3t-pass")}, kinds: "basic auth"},
		{name: "username only", url: "https://h/r.git", data: map[string][]byte{"username": []byte("t0ken-value")}, kinds: "basic auth"},
		{name: "bearer", url: "http://h/r.git", data: map[string][]byte{"bearerToken": []byte("t0ken-value")}, kinds: "bearer token"},
		{name: "ca and client cert", url: "https://h/r.git", data: map[string][]byte{"ca.crt": srv.CAPEM, "tls.crt": cert, "tls.key": certKey},
			kinds: "CA certificate, client certificate"},
		{name: "ssh", url: "ssh://git@h/r.git", data: map[string][]byte{"identity": key.PrivateKey, "known_hosts": knownHosts},
			kinds: "ssh identity for user git, known_hosts"},
		{name: "ssh other user", url: "ssh://deploy@h/r.git", data: map[string][]byte{"identity": key.PrivateKey, "known_hosts": knownHosts},
			kinds: "ssh identity for user deploy"},
		{name: "ssh no user", url: "ssh://h/r.git", data: map[string][]byte{"identity": key.PrivateKey, "known_hosts": knownHosts},
			kinds: "ssh identity for user git"},
		{name: "ssh encrypted", url: "ssh://git@h/r.git", kinds: "ssh identity",
			data: map[string][]byte{"identity": encrypted.PrivateKey, "password": []byte("key-passphrase"), "known_hosts": knownHosts}},

		{name: "bearer with basic", url: "https://h/r.git", want: ErrInvalidSecret, message: "'bearerToken' cannot be combined",
			data: map[string][]byte{"username": []byte("u"), "password": []byte("s3cr3t-pass"), "bearerToken": []byte("t0ken-value")}},
		{name: "password without username", url: "https://h/r.git", want: ErrInvalidSecret, message: "'password' is set but 'username' is missing",
			data: map[string][]byte{"password": []byte("s3cr3t-pass")}},
		{name: "ca not PEM", url: "https://h/r.git", want: ErrInvalidSecret, message: "'ca.crt' holds no PEM-encoded certificate",
			data: map[string][]byte{"ca.crt": []byte("s3cr3t-pass")}},
		{name: "caFile not PEM", url: "https://h/r.git", want: ErrInvalidSecret, message: "'caFile' holds no PEM",
			data: map[string][]byte{"caFile": []byte("junk")}},
		{name: "tls.crt without key", url: "https://h/r.git", want: ErrInvalidSecret, message: "'tls.crt' is set but 'tls.key' is missing",
			data: map[string][]byte{"tls.crt": cert}},
		{name: "tls.key without cert", url: "https://h/r.git", want: ErrInvalidSecret, message: "'tls.key' is set but 'tls.crt' is missing",
			data: map[string][]byte{"tls.key": certKey}},
		{name: "mismatched key pair", url: "https://h/r.git", want: ErrInvalidSecret, message: "not a valid key pair",
			data: map[string][]byte{"tls.crt": otherCert, "tls.key": certKey}},
		{name: "ssh without identity", url: "ssh://git@h/r.git", want: ErrInvalidSecret, message: "'identity'",
			data: map[string][]byte{"known_hosts": knownHosts, "username": []byte("u"), "password": []byte("s3cr3t-pass")}},
		{name: "ssh without known_hosts", url: "ssh://git@h/r.git", want: ErrInvalidSecret, message: "'known_hosts' is required",
			data: map[string][]byte{"identity": key.PrivateKey}},
		{name: "identity not a key", url: "ssh://git@h/r.git", want: ErrInvalidSecret, message: "not a valid SSH private key",
			data: map[string][]byte{"identity": []byte("s3cr3t-pass"), "known_hosts": knownHosts}},
		{name: "encrypted identity without password", url: "ssh://git@h/r.git", want: ErrInvalidSecret, message: "'identity' is encrypted and 'password' is not set",
			data: map[string][]byte{"identity": encrypted.PrivateKey, "known_hosts": knownHosts}},
		{name: "encrypted identity wrong password", url: "ssh://git@h/r.git", want: ErrInvalidSecret, message: "'password' does not decrypt 'identity'",
			data: map[string][]byte{"identity": encrypted.PrivateKey, "password": []byte("s3cr3t-pass"), "known_hosts": knownHosts}},
		{name: "bad known_hosts", url: "ssh://git@h/r.git", want: ErrInvalidSecret, message: "'known_hosts': line 2",
			data: map[string][]byte{"identity": key.PrivateKey, "known_hosts": []byte("# ok\n[127.0.0.1]:2222 ssh-ed25519 !!!notbase64\n")}},
		{name: "unsupported scheme", url: "ftp://h/r.git", want: ErrInvalidURL, message: `scheme "ftp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			a, err := AuthFromSecret(u, tt.data)
			assertNoSecrets(t, err)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
					t.Fatalf("got %v, want %v containing %q", err, tt.want, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatalf("AuthFromSecret: %v", err)
			}
			for _, s := range []string{a.String(), fmt.Sprintf("%v %+v %#v %s", a, a, a, a)} {
				if !strings.Contains(s, tt.kinds) {
					t.Errorf("description %q lacks %q", s, tt.kinds)
				}
				for _, secret := range secretValues {
					if strings.Contains(s, secret) {
						t.Fatalf("formatting Auth leaks a secret: %s", s)
					}
				}
			}
		})
	}
	if _, err := AuthFromSecret(nil, nil); !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("nil URL: %v", err)
	}
}

func TestAuthMismatchedWithURL(t *testing.T) {
	key := gittest.GenerateSSHKey(t)
	sshAuth := mustAuth(t, "ssh://git@h/r.git", map[string][]byte{"identity": key.PrivateKey, "known_hosts": []byte("h " + key.AuthorizedKey)})
	var client Client
	_, err := client.Clone(t.Context(), t.TempDir(), CloneOptions{URL: "https://h/r.git", Auth: sshAuth})
	if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), "SSH credentials") {
		t.Fatalf("ssh credentials for an https URL: %v", err)
	}
	httpAuth := mustAuth(t, "https://h/r.git", map[string][]byte{"username": []byte("u")})
	_, err = client.Clone(t.Context(), t.TempDir(), CloneOptions{URL: "ssh://git@h/r.git", Auth: httpAuth})
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("http credentials for an ssh URL: %v", err)
	}
}

func TestProxyFromSecret(t *testing.T) {
	tests := []struct {
		name    string
		data    map[string][]byte
		want    *Proxy
		message string
	}{
		{name: "address only", data: map[string][]byte{"address": []byte("http://proxy:3128")}, want: &Proxy{URL: "http://proxy:3128"}},
		{name: "with credentials", data: map[string][]byte{"address": []byte("https://proxy:3128"), "username": []byte("u"), "password": []byte("s3cr3t-pass")},
			want: &Proxy{URL: "https://proxy:3128", Username: "u", Password: "s3cr3t-pass"}},
		{name: "socks5", data: map[string][]byte{"address": []byte("socks5://proxy:1080")}, want: &Proxy{URL: "socks5://proxy:1080"}},
		{name: "missing address", data: map[string][]byte{"username": []byte("u")}, message: "needs 'address'"},
		{name: "address without scheme", data: map[string][]byte{"address": []byte("proxy:3128")}, message: "not a URL with a host"},
		{name: "address not a URL", data: map[string][]byte{"address": []byte("http://s3cr3t-pass@%zz")}, message: "not a URL with a host"},
		{name: "unsupported scheme", data: map[string][]byte{"address": []byte("ftp://proxy")}, message: `scheme "ftp"`},
		{name: "password without username", data: map[string][]byte{"address": []byte("http://p:1"), "password": []byte("s3cr3t-pass")},
			message: "'password' is set but 'username' is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ProxyFromSecret(tt.data)
			assertNoSecrets(t, err)
			if tt.want == nil {
				if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tt.message) {
					t.Fatalf("got %v, want ErrInvalidSecret containing %q", err, tt.message)
				}
				return
			}
			if err != nil || *p != *tt.want {
				t.Fatalf("got %+v, %v; want %+v", p, err, tt.want)
			}
			if strings.Contains(p.String(), "s3cr3t-pass") {
				t.Fatalf("Proxy.String leaks the password: %s", p)
			}
		})
	}
}
