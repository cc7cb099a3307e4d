package git

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// secretValues are credentials no error may ever contain.
var secretValues = []string{"s3cr3t-pass", "t0ken-value", "key-passphrase"}

func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secretValues {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret value: %v", err)
		}
	}
}

func mustAuth(t *testing.T, rawURL string, data map[string][]byte) *Auth {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	a, err := AuthFromSecret(u, data)
	if err != nil {
		t.Fatalf("AuthFromSecret: %v", err)
	}
	return a
}

func TestHTTPAuthentication(t *testing.T) {
	repo := gittest.NewRepo(t)
	head := repo.CommitFiles("master", map[string]string{"a": "a"}, "a")

	type server struct {
		opts gittest.HTTPOptions
		srv  *gittest.HTTPServer
	}
	basic := &server{opts: gittest.HTTPOptions{Username: "git", Password: "s3cr3t-pass"}}
	bearer := &server{opts: gittest.HTTPOptions{BearerToken: "t0ken-value"}}
	tlsSrv := &server{opts: gittest.HTTPOptions{TLS: true, Username: "git", Password: "s3cr3t-pass"}}
	mtls := &server{opts: gittest.HTTPOptions{RequireClientCert: true}}
	for _, s := range []*server{basic, bearer, tlsSrv, mtls} {
		s.srv = gittest.NewHTTPServer(t, repo.Root(), s.opts)
	}
	clientCert, clientKey := mtls.srv.ClientCertificate()

	tests := []struct {
		name    string
		srv     *server
		data    func() map[string][]byte
		want    error
		message string
	}{
		{name: "basic", srv: basic, data: func() map[string][]byte {
			return map[string][]byte{"username": []byte("git"), "password": []byte("s3cr3t-pass")}
		}},
		{name: "basic wrong password", srv: basic, want: ErrAuthentication, data: func() map[string][]byte {
			return map[string][]byte{"username": []byte("git"), "password": []byte("wrong")}
		}},
		{name: "basic without secret", srv: basic, want: ErrAuthentication},
		{name: "bearer", srv: bearer, data: func() map[string][]byte {
			return map[string][]byte{"bearerToken": []byte("t0ken-value")}
		}},
		{name: "bearer wrong token", srv: bearer, want: ErrAuthentication, data: func() map[string][]byte {
			return map[string][]byte{"bearerToken": []byte("other")}
		}},
		{name: "https with ca.crt", srv: tlsSrv, data: func() map[string][]byte {
			return map[string][]byte{"username": []byte("git"), "password": []byte("s3cr3t-pass"), "ca.crt": tlsSrv.srv.CAPEM}
		}},
		{name: "https with legacy caFile", srv: tlsSrv, data: func() map[string][]byte {
			return map[string][]byte{"username": []byte("git"), "password": []byte("s3cr3t-pass"), "caFile": tlsSrv.srv.CAPEM}
		}},
		{name: "https unknown CA", srv: tlsSrv, message: "certificate", data: func() map[string][]byte {
			return map[string][]byte{"username": []byte("git"), "password": []byte("s3cr3t-pass")}
		}},
		{name: "mtls", srv: mtls, data: func() map[string][]byte {
			return map[string][]byte{"ca.crt": mtls.srv.CAPEM, "tls.crt": clientCert, "tls.key": clientKey}
		}},
		{name: "mtls without client certificate", srv: mtls, message: "certificate", data: func() map[string][]byte {
			return map[string][]byte{"ca.crt": mtls.srv.CAPEM}
		}},
	}
	var client Client
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.srv.srv.RepoURL(repo.Name())
			var auth *Auth
			if tt.data != nil {
				auth = mustAuth(t, url, tt.data())
			}
			opts := CloneOptions{URL: url, Auth: auth}
			c, err := client.Clone(context.Background(), t.TempDir(), opts)
			_, _, rerr := client.Resolve(context.Background(), opts)
			assertNoSecrets(t, err)
			assertNoSecrets(t, rerr)
			if tt.want == nil && tt.message == "" {
				if err != nil || c.Hash != head || rerr != nil {
					t.Fatalf("Clone = %v, %v; Resolve: %v", c, err, rerr)
				}
				return
			}
			t.Logf("error: %v", err)
			for _, e := range []error{err, rerr} {
				if e == nil || (tt.want != nil && !errors.Is(e, tt.want)) || !strings.Contains(e.Error(), tt.message) {
					t.Fatalf("got %v, want %v containing %q", e, tt.want, tt.message)
				}
			}
		})
	}
}

func TestHTTPProxy(t *testing.T) {
	repo := gittest.NewRepo(t)
	head := repo.CommitFiles("master", map[string]string{"a": "a"}, "a")
	plain := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	tlsSrv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{TLS: true})
	proxy := gittest.NewHTTPProxy(t, "proxy-user", "s3cr3t-pass")

	var client Client
	for _, tt := range []struct {
		name string
		url  string
		auth *Auth
	}{
		{name: "http", url: plain.RepoURL(repo.Name())},
		{name: "https via CONNECT", url: tlsSrv.RepoURL(repo.Name()), auth: mustAuth(t, tlsSrv.URL()+"/x", map[string][]byte{"ca.crt": tlsSrv.CAPEM})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ProxyFromSecret(map[string][]byte{"address": []byte(proxy.URL), "username": []byte("proxy-user"), "password": []byte("s3cr3t-pass")})
			if err != nil {
				t.Fatal(err)
			}
			before := proxy.Forwarded()
			c, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: tt.url, Auth: tt.auth, Proxy: p})
			if err != nil || c.Hash != head {
				t.Fatalf("Clone through proxy = %v, %v", c, err)
			}
			if proxy.Forwarded() == before {
				t.Fatal("the clone did not go through the proxy")
			}
			wrong := &Proxy{URL: proxy.URL, Username: "proxy-user", Password: "wrong"}
			_, err = client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: tt.url, Auth: tt.auth, Proxy: wrong})
			if err == nil {
				t.Fatal("clone through a proxy with wrong credentials succeeded")
			}
			assertNoSecrets(t, err)
		})
	}
}

// sshFixture is a repository behind an SSH server that trusts one client key.
type sshFixture struct {
	repo   *gittest.Repo
	srv    *gittest.SSHServer
	head   string
	client *gittest.SSHKey
	url    string
}

func newSSHFixture(t *testing.T, opts gittest.SSHOptions, client *gittest.SSHKey) *sshFixture {
	t.Helper()
	repo := gittest.NewRepo(t)
	f := &sshFixture{repo: repo, client: client}
	f.head = repo.CommitFiles("master", map[string]string{"a": "a"}, "a")
	opts.AuthorizedKeys = append(opts.AuthorizedKeys, client.AuthorizedKey)
	f.srv = gittest.NewSSHServer(t, repo.Root(), opts)
	f.url = f.srv.URL(repo.Name())
	return f
}

func TestSSHAuthentication(t *testing.T) {
	encrypted := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "key-passphrase", Algorithm: "ecdsa"})
	f := newSSHFixture(t, gittest.SSHOptions{AuthorizedKeys: []string{encrypted.AuthorizedKey}}, gittest.GenerateSSHKey(t))
	stranger := gittest.GenerateSSHKey(t)
	otherHost := strings.Replace(f.srv.KnownHosts(), "[127.0.0.1]", "[127.0.0.2]", 1)

	tests := []struct {
		name string
		data map[string][]byte
		want error
	}{
		{name: "identity", data: map[string][]byte{"identity": f.client.PrivateKey, "known_hosts": []byte(f.srv.KnownHosts())}},
		{name: "encrypted identity with password", data: map[string][]byte{
			"identity": encrypted.PrivateKey, "password": []byte("key-passphrase"), "known_hosts": []byte(f.srv.KnownHosts())}},
		{name: "known_hosts with comments and several hosts", data: map[string][]byte{"identity": f.client.PrivateKey,
			"known_hosts": []byte("# comment\n\ngithub.com " + stranger.AuthorizedKey + "\n" + f.srv.KnownHosts() + "\n")}},
		{name: "wrong key", want: ErrAuthentication, data: map[string][]byte{
			"identity": stranger.PrivateKey, "known_hosts": []byte(f.srv.KnownHosts())}},
		{name: "host key mismatch", want: ErrHostKeyVerification, data: map[string][]byte{
			"identity": f.client.PrivateKey, "known_hosts": []byte(f.srv.KnownHostsLine(stranger.PublicKey))}},
		{name: "host not in known_hosts", want: ErrHostKeyVerification, data: map[string][]byte{
			"identity": f.client.PrivateKey, "known_hosts": []byte(otherHost)}},
	}
	var client Client
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := CloneOptions{URL: f.url, Auth: mustAuth(t, f.url, tt.data)}
			c, err := client.Clone(context.Background(), t.TempDir(), opts)
			hash, _, rerr := client.Resolve(context.Background(), opts)
			assertNoSecrets(t, err)
			if tt.want == nil {
				if err != nil || c.Hash != f.head || rerr != nil || hash != f.head {
					t.Fatalf("Clone = %v, %v; Resolve = %s, %v", c, err, hash, rerr)
				}
				return
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.want) || !errors.Is(rerr, tt.want) {
				t.Fatalf("Clone: %v; Resolve: %v; want %v", err, rerr, tt.want)
			}
		})
	}

	_, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: f.url})
	if !errors.Is(err, ErrAuthentication) || !strings.Contains(err.Error(), "identity") {
		t.Fatalf("ssh without a secret: %v", err)
	}
}

func TestSSHHostKeyAlgorithmFollowsKnownHosts(t *testing.T) {
	rsaHost := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Algorithm: "rsa"})
	edHost := gittest.GenerateSSHKey(t)
	f := newSSHFixture(t, gittest.SSHOptions{HostKeys: []*gittest.SSHKey{edHost, rsaHost}}, gittest.GenerateSSHKey(t))
	var client Client
	for _, key := range []*gittest.SSHKey{rsaHost, edHost} {
		auth := mustAuth(t, f.url, map[string][]byte{"identity": f.client.PrivateKey, "known_hosts": []byte(f.srv.KnownHostsLine(key.PublicKey))})
		if _, _, err := client.Resolve(context.Background(), CloneOptions{URL: f.url, Auth: auth}); err != nil {
			t.Fatalf("known_hosts with only the %s host key: %v", key.PublicKey.Type(), err)
		}
	}
}

func TestUnreachableHost(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("master", map[string]string{"a": "a"}, "a")
	httpSrv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	f := newSSHFixture(t, gittest.SSHOptions{}, gittest.GenerateSSHKey(t))
	sshAuth := mustAuth(t, f.url, map[string][]byte{"identity": f.client.PrivateKey, "known_hosts": []byte(f.srv.KnownHosts())})
	httpSrv.Stop()
	f.srv.Stop()

	var client Client
	withPassword := strings.Replace(httpSrv.RepoURL(repo.Name()), "://", "://user:s3cr3t-pass@", 1)
	for _, opts := range []CloneOptions{
		{URL: httpSrv.RepoURL(repo.Name())},
		{URL: withPassword},
		{URL: f.url, Auth: sshAuth},
	} {
		_, err := client.Clone(context.Background(), t.TempDir(), opts)
		assertNoSecrets(t, err)
		if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("clone from a stopped server: %v", err)
		}
		if errors.Is(err, ErrAuthentication) || errors.Is(err, ErrReferenceNotFound) {
			t.Fatalf("unreachable host classified as %v", err)
		}
	}
	httpSrv.Start()
	if _, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: httpSrv.RepoURL(repo.Name())}); err != nil {
		t.Fatalf("clone after restart: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	repo := gittest.NewRepo(t)
	repo.CommitFiles("master", map[string]string{"a": "a"}, "a")
	httpSrv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	f := newSSHFixture(t, gittest.SSHOptions{}, gittest.GenerateSSHKey(t))
	sshAuth := mustAuth(t, f.url, map[string][]byte{"identity": f.client.PrivateKey, "known_hosts": []byte(f.srv.KnownHosts())})
	httpSrv.SetHang(true)
	f.srv.SetHang(true)

	var client Client
	for _, opts := range []CloneOptions{
		{URL: httpSrv.RepoURL(repo.Name()), Timeout: 300 * time.Millisecond},
		{URL: f.url, Auth: sshAuth, Timeout: 300 * time.Millisecond},
	} {
		start := time.Now()
		_, err := client.Clone(context.Background(), t.TempDir(), opts)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("clone from a hanging server: %v", err)
		}
		_, _, err = client.Resolve(context.Background(), opts)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("resolve from a hanging server: %v", err)
		}
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Fatalf("timeout of 300ms took %s", elapsed)
		}
	}
}
