package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/testkit/s3test"
)

// objectGets returns the keys of the object GETs the proxy forwarded (in
// request order), other than the root .sourceignore that every Index reads.
func objectGets(p *s3test.CountingProxy, bucket string) []string {
	var out []string
	for _, r := range p.Requests() {
		method, rest, _ := strings.Cut(r, " ")
		path, _, _ := strings.Cut(rest, "?")
		key, ok := strings.CutPrefix(path, "/"+bucket+"/")
		if method == "GET" && ok && key != "" && key != ".sourceignore" {
			out = append(out, key)
		}
	}
	return out
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
