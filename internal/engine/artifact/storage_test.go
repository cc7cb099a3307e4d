package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/api/meta"
)

func TestNewStorageDefaults(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b", "storage")
	s, err := NewStorage(Options{Root: root, AdvAddr: "localhost:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		t.Fatalf("root not created: %v", err)
	}
	if s.Root() != root || s.DigestAlgo() != "sha256" || s.records != 2 || s.ttl != time.Minute || s.now == nil {
		t.Errorf("defaults: root %s algo %s records %d ttl %s", s.Root(), s.DigestAlgo(), s.records, s.ttl)
	}
}

func TestNewStorageErrors(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"empty root", Options{AdvAddr: "x"}, "storage root is empty"},
		{"root under a file", Options{Root: filepath.Join(blocker, "sub"), AdvAddr: "x"}, "creating storage root " + filepath.Join(blocker, "sub")},
		{"root is a file", Options{Root: blocker, AdvAddr: "x"}, "creating storage root " + blocker + ": mkdir " + blocker + ": not a directory"},
		{"empty address", Options{}, "storage advertised address is empty"},
		{"bad scheme", Options{AdvAddr: "ftp://host"}, "scheme must be http or https"},
		{"query", Options{AdvAddr: "http://host/?a=b"}, "want host[:port] or http(s)://host[:port][/path]"},
		{"no host", Options{AdvAddr: "http://"}, "want host[:port]"},
		{"bad address", Options{AdvAddr: "host:port:x%"}, `storage advertised address "host:port:x%"`},
		{"unknown algorithm", Options{DigestAlgo: "md5"}, `unsupported digest algorithm "md5" (supported: sha256, sha384, sha512)`},
		{"negative records", Options{RetentionRecords: -1}, "artifact retention records must not be negative"},
		{"negative ttl", Options{RetentionTTL: -time.Second}, "artifact retention TTL must not be negative"},
		{"negative max size", Options{MaxArchiveSize: -1}, "maximum archive size must not be negative"},
		{"negative max files", Options{MaxArchiveFiles: -1}, "maximum number of archived files must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Root == "" && tt.name != "empty root" {
				opts.Root = t.TempDir()
			}
			if opts.AdvAddr == "" && tt.name != "empty address" {
				opts.AdvAddr = "localhost"
			}
			_, err := NewStorage(opts)
			if !errContains(err, tt.want) {
				t.Errorf("NewStorage: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPathsAndURLs(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"source-controller.flux-system.svc.cluster.local.", "http://source-controller.flux-system.svc.cluster.local./gitrepository/ns/n/a.tar.gz"},
		{"localhost:9090", "http://localhost:9090/gitrepository/ns/n/a.tar.gz"},
		{"http://127.0.0.1:9090/", "http://127.0.0.1:9090/gitrepository/ns/n/a.tar.gz"},
		{"https://artifacts.example.com/prefix", "https://artifacts.example.com/prefix/gitrepository/ns/n/a.tar.gz"},
	}
	for _, tt := range tests {
		s := newTestStorage(t, func(o *Options) { o.AdvAddr = tt.addr })
		rel := s.ArtifactPath("GitRepository", "ns", "n", "a.tar.gz")
		if rel != "gitrepository/ns/n/a.tar.gz" {
			t.Errorf("ArtifactPath = %s", rel)
		}
		if got := s.URL(rel); got != tt.want {
			t.Errorf("adv addr %q: URL = %s, want %s", tt.addr, got, tt.want)
		}
	}
	s := newTestStorage(t, nil)
	if got := s.URL("k/n/o/a b#c.tgz"); !strings.HasSuffix(got, "/k/n/o/a%20b%23c.tgz") {
		t.Errorf("URL does not escape: %s", got)
	}
	local, err := s.LocalPath("k/n/o/./a.tar.gz")
	if err != nil || local != filepath.Join(s.Root(), "k", "n", "o", "a.tar.gz") {
		t.Errorf("LocalPath = %s, %v", local, err)
	}
	for _, bad := range []string{"", "..", "../x", "a/../../x", "/etc/passwd", "a\x00b", `a\..\b`, "."} {
		if _, err := s.LocalPath(bad); err == nil {
			t.Errorf("LocalPath(%q) accepted", bad)
		}
	}
}

func TestCopy(t *testing.T) {
	s := newTestStorage(t, func(o *Options) { o.MaxArchiveSize = 10 })
	a, err := s.Copy(strings.NewReader("0123456789"), "helmrepository/ns/n/index.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != "sha256:84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882" || *a.Size != 10 {
		t.Errorf("Copy artifact = %s, size %d", a.Digest, *a.Size)
	}
	if err := s.Verify(a); err != nil {
		t.Error(err)
	}
	_, err = s.Copy(strings.NewReader("0123456789a"), "helmrepository/ns/n/big.yaml")
	if !errContains(err, "content exceeds the maximum artifact size of 10 bytes") {
		t.Errorf("Copy too large: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "helmrepository/ns/n/big.yaml")); !os.IsNotExist(err) {
		t.Errorf("oversized copy left a file: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "helmrepository/ns/n"))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (no temporary files)", len(entries))
	}
}

func TestSymlink(t *testing.T) {
	s := newTestStorage(t, nil)
	one, err := s.Copy(strings.NewReader("one"), "ocirepository/ns/n/one.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Copy(strings.NewReader("two"), "ocirepository/ns/n/two.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*meta.Artifact{one, two} {
		url, err := s.Symlink(a.Path, "latest.tar.gz")
		if err != nil {
			t.Fatal(err)
		}
		if url != "http://source-controller.flux-system.svc.cluster.local./ocirepository/ns/n/latest.tar.gz" {
			t.Errorf("link URL = %s", url)
		}
		link := filepath.Join(s.Root(), "ocirepository/ns/n/latest.tar.gz")
		target, err := os.Readlink(link)
		if err != nil || target != filepath.Base(a.Path) {
			t.Errorf("link target = %q, %v; want %s", target, err, filepath.Base(a.Path))
		}
	}
	entries, _ := os.ReadDir(filepath.Join(s.Root(), "ocirepository/ns/n"))
	if len(entries) != 3 {
		t.Errorf("directory holds %d entries, want the two files and the link", len(entries))
	}

	tests := []struct{ rel, link, want string }{
		{"ocirepository/ns/n/missing.tar.gz", "latest.tar.gz", "no such file"},
		{one.Path, "../escape", "invalid link name"},
		{one.Path, ".lock", "invalid link name"},
		{one.Path, "", "invalid link name"},
		{"ocirepository/ns/n/latest.tar.gz", "other", "not a regular file"},
		{"../x", "latest", "escapes the storage root"},
	}
	for _, tt := range tests {
		if _, err := s.Symlink(tt.rel, tt.link); !errContains(err, tt.want) {
			t.Errorf("Symlink(%q, %q): %v, want %q", tt.rel, tt.link, err, tt.want)
		}
	}
}

func TestExistsAndVerify(t *testing.T) {
	s := newTestStorage(t, nil)
	a, err := s.Copy(strings.NewReader("content"), "bucket/ns/n/a.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Exists(a) || s.Exists(nil) || s.Exists(&meta.Artifact{Path: "bucket/ns/n/b.tar.gz"}) || s.Exists(&meta.Artifact{Path: "../x"}) {
		t.Error("Exists answers wrongly")
	}
	if err := s.Verify(a); err != nil {
		t.Fatal(err)
	}

	wrongSize := *a
	n := int64(3)
	wrongSize.Size = &n
	badDigest := *a
	badDigest.Digest = "sha256:abc"
	missing := *a
	missing.Path = "bucket/ns/n/gone.tar.gz"
	tests := []struct {
		name string
		a    *meta.Artifact
		want string
	}{
		{"nil", nil, "no artifact"},
		{"size", &wrongSize, "size mismatch: expected 3 bytes, got 7"},
		{"malformed digest", &badDigest, "invalid digest"},
		{"missing", &missing, "verifying artifact bucket/ns/n/gone.tar.gz"},
	}
	for _, tt := range tests {
		if err := s.Verify(tt.a); !errContains(err, tt.want) {
			t.Errorf("%s: Verify: %v, want %q", tt.name, err, tt.want)
		}
	}

	local, _ := s.LocalPath(a.Path)
	if err := os.WriteFile(local, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = s.Verify(a)
	if !errContains(err, "digest mismatch: expected "+a.Digest+", got sha256:") {
		t.Errorf("Verify tampered: %v", err)
	}
	if err := os.Remove(local); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", local); err != nil {
		t.Fatal(err)
	}
	if s.Exists(a) {
		t.Error("Exists accepts a symbolic link")
	}
	if err := s.Verify(a); err == nil {
		t.Error("Verify follows a symbolic link")
	}
}

func TestRemoveAll(t *testing.T) {
	s := newTestStorage(t, nil)
	if _, err := s.Copy(strings.NewReader("x"), "gitrepository/ns/n/a.tar.gz"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(strings.NewReader("x"), "gitrepository/ns/other/a.tar.gz"); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock("GitRepository", "ns", "n")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := s.RemoveAll("GitRepository", "ns", "n"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "gitrepository/ns/n")); !os.IsNotExist(err) {
		t.Errorf("object directory still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "gitrepository/ns/other/a.tar.gz")); err != nil {
		t.Errorf("other object removed: %v", err)
	}
	if err := s.RemoveAll("GitRepository", "ns", "n"); err != nil {
		t.Errorf("RemoveAll of a missing object: %v", err)
	}
	for _, bad := range [][3]string{{"", "ns", "n"}, {"k", "..", "n"}, {"k", "ns", "a/b"}} {
		if err := s.RemoveAll(bad[0], bad[1], bad[2]); !errContains(err, "invalid object") {
			t.Errorf("RemoveAll(%q): %v", bad, err)
		}
	}
}
