package bucket

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/s3test"
)

// TestMutualTLS: with the client pair of certSecretRef the front lets the
// listing through; without it the handshake is refused.
func TestMutualTLS(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "a.yaml", []byte("a"))
	front := s.NewMutualTLSProxy(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(front.CA)
	pair, err := tls.X509KeyPair(front.ClientCert, front.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(s, "bkt")
	cfg.Endpoint, cfg.Insecure = front.Endpoint(), false
	cfg.TLS = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}
	idx, err := mustNew(t, cfg).Index(ctx(t), "", Limits{})
	if err != nil || idx.Len() != 1 || front.Forwarded() == 0 {
		t.Fatalf("Index with the client certificate: %v, %v (forwarded %d)", idx, err, front.Forwarded())
	}
	cfg.TLS = &tls.Config{RootCAs: pool}
	if _, err := mustNew(t, cfg).Index(ctx(t), "", Limits{}); err == nil || front.Refused() == 0 {
		t.Errorf("Index without a client certificate = %v (refused %d), want a refusal", err, front.Refused())
	}
}

// TestForwardProxy: with proxySecretRef every request goes through the
// proxy, its password never shows in an error.
func TestForwardProxy(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "a.yaml", []byte("a"))
	proxy := gittest.NewHTTPProxy(t, "user", "proxy-pass-123")
	u, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("user", "proxy-pass-123")
	cfg := config(s, "bkt")
	cfg.Proxy = u
	c := mustNew(t, cfg)
	idx, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatalf("Index through the proxy: %v", err)
	}
	if _, _, err := c.Fetch(ctx(t), idx, t.TempDir(), nil, 1); err != nil {
		t.Fatalf("Fetch through the proxy: %v", err)
	}
	if proxy.Forwarded() == 0 {
		t.Fatal("the proxy saw nothing: the client went around it")
	}
	u.User = url.UserPassword("user", "wrong-proxy-pass")
	cfg.Proxy, cfg.Timeout = u, 5*time.Second
	_, err = mustNew(t, cfg).Index(ctx(t), "", Limits{})
	if err == nil || strings.Contains(err.Error(), "wrong-proxy-pass") {
		t.Errorf("Index with a wrong proxy password = %v, want an error without the password", err)
	}
}

// TestSTSLDAP: an STS stand-in answers AssumeRoleWithLDAPIdentity after
// checking the LDAP user and password, with the server's keys and an empty
// session token; a wrong password is an authentication failure.
func TestSTSLDAP(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "a.yaml", []byte("a"))
	calls := 0
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRoleWithLDAPIdentity" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if r.Form.Get("LDAPUsername") != "alice" || r.Form.Get("LDAPPassword") != "ldap-secret-pw" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Code>AccessDenied</Code><Message>LDAP bind failed</Message></Error></ErrorResponse>`)
			return
		}
		fmt.Fprintf(w, `<AssumeRoleWithLDAPIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleWithLDAPIdentityResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>
<Expiration>%s</Expiration><SessionToken></SessionToken></Credentials></AssumeRoleWithLDAPIdentityResult>
</AssumeRoleWithLDAPIdentityResponse>`, s.AccessKey, s.SecretKey, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(sts.Close)
	cfg := config(s, "bkt")
	cfg.AccessKey, cfg.SecretKey = "", ""
	cfg.STS = &STS{Provider: "ldap", Endpoint: sts.URL, Username: "alice", Password: "ldap-secret-pw"}
	idx, err := mustNew(t, cfg).Index(ctx(t), "", Limits{})
	if err != nil || idx.Len() != 1 || calls == 0 {
		t.Fatalf("Index with LDAP STS: %v, %v (STS calls %d)", idx, err, calls)
	}
	cfg.STS.Password = "wrong-ldap-pw"
	_, err = mustNew(t, cfg).Index(ctx(t), "", Limits{})
	if !IsAuthenticationFailed(err) || strings.Contains(err.Error(), "wrong-ldap-pw") || !strings.Contains(err.Error(), "STS") {
		t.Errorf("Index with a wrong LDAP password = %v, want an authentication failure without the password", err)
	}
}

// TestAWSProviderWithRegion: provider aws uses the static keys against a
// server in another region and ignores AWS_* variables of the environment.
func TestAWSProviderWithRegion(t *testing.T) {
	s := s3test.Start(t, s3test.Options{Region: "eu-west-3"})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "a.yaml", []byte("a"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")
	cfg := config(s, "bkt")
	cfg.Provider = ProviderAWS
	if idx, err := mustNew(t, cfg).Index(ctx(t), "", Limits{}); err != nil || idx.Len() != 1 {
		t.Fatalf("Index with provider aws: %v, %v", idx, err)
	}
}

// TestTimeout: a server that accepts and never answers fails the listing
// within the timeout, with a message naming it.
func TestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	c := mustNew(t, Config{BucketName: "bkt", Endpoint: l.Addr().String(), Insecure: true,
		AccessKey: "a", SecretKey: "s", Region: "us-east-1", Timeout: time.Second})
	start := time.Now()
	_, err = c.Index(ctx(t), "", Limits{})
	if err == nil || !strings.Contains(err.Error(), "timeout of 1s") || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Errorf("Index against a silent server = %v, want the timeout named", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout of 1s took %s", d)
	}
}

// TestFetchObjectRewrittenAfterListing: the ETag of the GET response goes
// into the fetched index, so the revision shows the rewrite.
func TestFetchObjectRewrittenAfterListing(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "a.yaml", []byte("v1"))
	c := mustNew(t, config(s, "bkt"))
	idx, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	etag := s.Put(t, "bkt", "a.yaml", []byte("version two"))
	got, _, err := c.Fetch(ctx(t), idx, t.TempDir(), nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Objects[0].ETag != etag || got.Objects[0].ETag == idx.Objects[0].ETag || got.Objects[0].Size != int64(len("version two")) {
		t.Errorf("fetched %+v, listed %+v, put ETag %q: want the GET's ETag", got.Objects[0], idx.Objects[0], etag)
	}
	if Revision(got, "sha256") == Revision(idx, "sha256") {
		t.Error("the revision hides the rewrite")
	}
}

// TestBadInputMessages: the mistakes with cryptic transport errors get a
// message saying what to change.
func TestBadInputMessages(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"wrong region":  {func(c *Config) { c.Region = "eu-central-1" }, "check spec.region"},
		"HTTPS to HTTP": {func(c *Config) { c.Insecure = false }, "set insecure: true"},
		"unreachable":   {func(c *Config) { c.Endpoint = "127.0.0.1:1" }, "connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config(s, "bkt")
			tc.mod(&cfg)
			_, err := mustNew(t, cfg).Index(ctx(t), "", Limits{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), cfg.Endpoint) || strings.Contains(err.Error(), s.SecretKey) {
				t.Errorf("Index = %v, want %q and the endpoint, no secret", err, tc.want)
			}
		})
	}
}

// TestAnonymous: no keys reads a public bucket, and a private one is an
// authentication failure saying AccessDenied.
func TestAnonymous(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "pub")
	s.MakeBucket(t, "priv")
	s.Put(t, "pub", "a.yaml", []byte("a"))
	s.Put(t, "priv", "a.yaml", []byte("a"))
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
		`"Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::pub","arn:aws:s3:::pub/*"]}]}`
	if err := s.Client.SetBucketPolicy(ctx(t), "pub", policy); err != nil {
		t.Fatalf("setting a public policy: %v", err)
	}
	cfg := config(s, "pub")
	cfg.AccessKey, cfg.SecretKey = "", ""
	c := mustNew(t, cfg)
	idx, err := c.Index(ctx(t), "", Limits{})
	if err != nil || idx.Len() != 1 {
		t.Fatalf("anonymous Index of a public bucket: %v, %v", idx, err)
	}
	if _, stats, err := c.Fetch(ctx(t), idx, t.TempDir(), nil, 1); err != nil || stats.Downloaded != 1 {
		t.Fatalf("anonymous Fetch: %+v, %v", stats, err)
	}
	cfg.BucketName = "priv"
	_, err = mustNew(t, cfg).Index(ctx(t), "", Limits{})
	if !IsAuthenticationFailed(err) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("anonymous Index of a private bucket = %v, want AccessDenied", err)
	}
}

// TestSourceIgnoreExcludesEverything: an empty index, an empty tree and the
// revision of nothing, not an error.
func TestSourceIgnoreExcludesEverything(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", ".sourceignore", []byte("/*\n"))
	s.Put(t, "bkt", "a/b.yaml", []byte("x"))
	c := mustNew(t, config(s, "bkt"))
	idx, err := c.Index(ctx(t), "", Limits{MaxFiles: 1})
	if err != nil || idx.Len() != 0 {
		t.Fatalf("Index = %v, %v; want empty", idx, err)
	}
	dir := t.TempDir()
	got, stats, err := c.Fetch(ctx(t), idx, dir, nil, 0)
	if err != nil || got.Len() != 0 || stats.Downloaded != 0 || len(tree(t, dir)) != 0 {
		t.Fatalf("Fetch = %v, %+v, %v, tree %v", got, stats, err, tree(t, dir))
	}
	if Revision(got, "sha256") != shaHex("") {
		t.Errorf("revision %s, want the digest of nothing", Revision(got, "sha256"))
	}
}

// TestDownloadsStayWithinTheByteBudget: the listing's sizes are the
// server's word; a server that serves more than it listed (here, a listing
// not checked at all) is stopped at MaxDownloadSize, naming the flag, and
// the object is not left behind.
func TestDownloadsStayWithinTheByteBudget(t *testing.T) {
	s := s3test.Start(t, s3test.Options{})
	s.MakeBucket(t, "bkt")
	s.Put(t, "bkt", "small.yaml", []byte("a"))
	s.Put(t, "bkt", "big.bin", make([]byte, 64<<10))
	cfg := config(s, "bkt")
	cfg.MaxDownloadSize = 32 << 10
	c := mustNew(t, cfg)
	idx, err := c.Index(ctx(t), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, _, err = c.Fetch(ctx(t), idx, dir, nil, 1)
	if !IsLimitExceeded(err) || !strings.Contains(err.Error(), "--artifact-max-size") {
		t.Fatalf("Fetch past the byte budget = %v, want a limit error naming --artifact-max-size", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "big.bin")); !os.IsNotExist(err) {
		t.Errorf("the cut object was left in the tree: %v", err)
	}
}
