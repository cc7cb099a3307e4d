package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/testkit/s3test"
)

// counter is a reverse proxy in front of a Server that records the object
// GETs and the listings, forwarding with the Host header unchanged (SigV4
// signs it).
type counter struct {
	URL    *url.URL
	mu     sync.Mutex
	gets   map[string]int
	lists  int
	server *httptest.Server
}

func newCounter(t *testing.T, s *s3test.Server, bucket string) *counter {
	t.Helper()
	target, _ := url.Parse(s.URL)
	c := &counter{gets: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	c.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			key, isObject := strings.CutPrefix(r.URL.Path, "/"+bucket+"/")
			c.mu.Lock()
			if isObject && key != "" {
				c.gets[key]++
			} else if r.URL.Query().Has("list-type") || strings.TrimSuffix(r.URL.Path, "/") == "/"+bucket {
				c.lists++
			}
			c.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(c.server.Close)
	c.URL, _ = url.Parse(c.server.URL)
	return c
}

// objectGets returns the GETs of objects other than .sourceignore.
func (c *counter) objectGets() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, n := range c.gets {
		if k != ".sourceignore" {
			out[k] = n
		}
	}
	return out
}

func (c *counter) listings() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists
}

// config returns the Config of bucket on s with the root keys.
func config(s *s3test.Server, bucket string) Config {
	return Config{
		BucketName: bucket, Endpoint: s.Endpoint, Region: s.Region, Insecure: !s.TLS,
		AccessKey: s.AccessKey, SecretKey: s.SecretKey, Timeout: 30 * time.Second,
	}
}

// mustNew builds a Client or fails the test.
func mustNew(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// ctx returns a context bounded by the test's deadline.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// keys returns the keys of idx.
func keys(idx Index) []string {
	var out []string
	for _, o := range idx.Objects {
		out = append(out, o.Key)
	}
	return out
}

// tree returns every regular file under dir with its content, and every
// directory (with a trailing /).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[filepath.ToSlash(rel)+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// archive writes dir as the repository's deterministic tarball and
// returns its path, bytes and sha256 digest.
func archive(t *testing.T, dir string) (string, []byte, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := artifact.WriteArchive(&buf, dir, nil); err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	p := filepath.Join(t.TempDir(), "artifact.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return p, buf.Bytes(), "sha256:" + hex.EncodeToString(sum[:])
}

// shaHex returns "sha256:<hex>" of s, computed independently of Revision.
func shaHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}
