package s3test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/driftless/driftless/internal/testkit/testca"
)

// DefaultRegion is the region a Server runs in unless Options.Region names
// another; it is versitygw's default and S3's.
const DefaultRegion = "us-east-1"

// readyTimeout bounds the wait for a started versitygw to answer a signed
// ListBuckets.
const readyTimeout = 60 * time.Second

// Server is a running versitygw with a posix backend in a temporary
// directory. Start's stops when the test ends; New's when Close is called.
type Server struct {
	// Endpoint is host:port without a scheme: what a Bucket's
	// spec.endpoint takes.
	Endpoint string
	// URL is http://Endpoint, or https:// when TLS.
	URL string
	// AccessKey and SecretKey are the root user's random keys: the
	// accesskey and secretkey of a Bucket's secretRef.
	AccessKey, SecretKey string
	// Region is the region the server answers for.
	Region string
	// TLS says the server speaks HTTPS only.
	TLS bool
	// CA is the PEM certificate of the CA that signed the server's
	// certificate (TLS only): a certSecretRef's ca.crt.
	CA []byte
	// Client is a minio-go client with the root keys, to make buckets and
	// put or delete objects.
	Client *minio.Client

	ca      *testca.CA
	process *process
	// dir holds versitygw's data and metadata, and the TLS files; Close
	// removes it.
	dir string
}

// Options chooses how a Server runs. The zero value is plain HTTP in
// us-east-1.
type Options struct {
	// TLS serves HTTPS with a certificate from a fresh test CA.
	TLS bool
	// Region is the server's region; empty means DefaultRegion.
	Region string
}

// Start runs `versitygw --port 127.0.0.1:<port> posix --sidecar <meta> <data>`
// with random root keys, waits until a signed ListBuckets succeeds, and stops
// it when the test ends (printing its log when the test failed). Without
// versitygw the test fails under CI=true and is skipped elsewhere.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	binaryFor(t) // skips or fails the test, naming the make line, when missing
	s, err := New(opts)
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("s3test: versitygw log (%s):\n%s", s.URL, s.process.output())
		}
		if err := s.Close(); err != nil {
			t.Errorf("s3test: %v", err)
		}
	})
	return s
}

// New is Start for a program (the benchmark): it runs versitygw over a
// fresh temporary directory and returns once a signed ListBuckets succeeds,
// or an error carrying versitygw's log. The caller stops it with Close.
func New(opts Options) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, fmt.Errorf("versitygw is missing and could not be built (run `%s`, or set %s): %w", makeLine, BinaryEnv, err)
	}
	dir, err := os.MkdirTemp("", "s3test-")
	if err != nil {
		return nil, fmt.Errorf("s3test: %w", err)
	}
	s := &Server{
		AccessKey: "s3test" + randomHex(7),
		SecretKey: randomHex(20),
		Region:    opts.Region,
		TLS:       opts.TLS,
		dir:       dir,
	}
	if s.Region == "" {
		s.Region = DefaultRegion
	}
	if err := s.run(bin); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Close stops versitygw and removes its directory (the objects with it).
// Closing twice is harmless.
func (s *Server) Close() error {
	s.process.stop()
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove the versitygw directory: %w", err)
	}
	return nil
}

// run starts versitygw over s.dir and waits until it answers.
func (s *Server) run(bin string) error {
	meta, data := filepath.Join(s.dir, "meta"), filepath.Join(s.dir, "data")
	for _, d := range []string{meta, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("s3test: %w", err)
		}
	}
	var tlsArgs []string
	if s.TLS {
		s.ca = testca.New("s3test CA")
		s.CA = s.ca.CertPEM
		pair := s.ca.Server()
		certFile, keyFile := filepath.Join(s.dir, "tls.crt"), filepath.Join(s.dir, "tls.key")
		if err := os.WriteFile(certFile, pair.CertPEM, 0o600); err != nil {
			return fmt.Errorf("s3test: %w", err)
		}
		if err := os.WriteFile(keyFile, pair.KeyPEM, 0o600); err != nil {
			return fmt.Errorf("s3test: %w", err)
		}
		tlsArgs = []string{"--cert", certFile, "--key", keyFile}
	}

	// A fresh port can be taken between picking and binding it: try again
	// on another one when versitygw exits before answering.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := pickPort()
		if err != nil {
			return fmt.Errorf("s3test: %w", err)
		}
		s.Endpoint = "127.0.0.1:" + strconv.Itoa(port)
		s.URL = s.scheme() + "://" + s.Endpoint
		args := append([]string{"--port", s.Endpoint, "--region", s.Region}, tlsArgs...)
		args = append(args, "posix", "--sidecar", meta, data)
		p, err := startProcess(bin, args, s.env())
		if err != nil {
			return fmt.Errorf("s3test: %w", err)
		}
		s.process = p
		s.Client, err = s.newClient(s.Endpoint, nil)
		if err != nil {
			p.stop()
			return fmt.Errorf("s3test: %w", err)
		}
		lastErr = s.waitReady(readyTimeout)
		if lastErr == nil {
			return nil
		}
		p.stop()
		if !p.exitedEarly() || !strings.Contains(p.output(), "address already in use") {
			break
		}
	}
	return fmt.Errorf("s3test: versitygw at %s did not answer a signed ListBuckets: %w\n--- versitygw log ---\n%s", s.URL, lastErr, s.process.output())
}

// pickPort is freshPort; a test of the retry replaces it.
var pickPort = freshPort

// scheme is the URL scheme the server speaks.
func (s *Server) scheme() string {
	if s.TLS {
		return "https"
	}
	return "http"
}

// env is the test's environment without the variables versitygw would
// read as options (VGW_*, ROOT_*, LOGFILE, WEBHOOK), plus the root keys:
// passed this way they never appear in a process listing.
func (s *Server) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "VGW_") || strings.HasPrefix(name, "ROOT_") || name == "LOGFILE" || name == "WEBHOOK" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
}

// waitReady polls a signed ListBuckets until it succeeds, the process
// exits or the timeout passes; the error is the last answer.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	// A probe stuck on a port another listener holds ends when versitygw
	// exits, not after its own timeout.
	base, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		select {
		case <-s.process.exited:
			stop()
		case <-base.Done():
		}
	}()
	var last error
	for {
		ctx, cancel := context.WithTimeout(base, 5*time.Second)
		_, err := s.Client.ListBuckets(ctx)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-s.process.exited:
			return fmt.Errorf("versitygw exited (%v); last ListBuckets: %w", s.process.waitErr, last)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no success after %s; last ListBuckets: %w", timeout, last)
		}
	}
}

// TLSConfig is a client configuration that trusts the server's CA (nil for
// a plain HTTP server).
func (s *Server) TLSConfig() *tls.Config {
	if !s.TLS {
		return nil
	}
	return &tls.Config{RootCAs: s.ca.Pool(), MinVersion: tls.VersionTLS12}
}

// NewClient is a minio-go client with the root keys for endpoint (host:port,
// the server's own or a proxy's) over transport; a nil transport is a
// default one trusting the server's CA. secure picks HTTPS.
func (s *Server) NewClient(t testing.TB, endpoint string, secure bool, transport http.RoundTripper) *minio.Client {
	t.Helper()
	c, err := s.client(endpoint, secure, transport)
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	return c
}

// newClient is client for the server's own scheme.
func (s *Server) newClient(endpoint string, transport http.RoundTripper) (*minio.Client, error) {
	return s.client(endpoint, s.TLS, transport)
}

// client builds a path-style minio-go client with the root keys and the
// server's region; a nil transport uses no proxy and trusts the server's CA.
func (s *Server) client(endpoint string, secure bool, transport http.RoundTripper) (*minio.Client, error) {
	if transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		tr.TLSClientConfig = s.TLSConfig()
		transport = tr
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:       secure,
		Region:       s.Region,
		Transport:    transport,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("minio client for %s: %w", endpoint, err)
	}
	return c, nil
}

// randomHex is n random bytes in hex: keys nobody can guess or reuse.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("s3test: random: %v", err))
	}
	return hex.EncodeToString(b)
}
