package artifact

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/driftless/driftless/api/meta"
)

// Defaults of the storage options, as in Flux's source-controller.
const (
	DefaultRetentionRecords = 2
	DefaultRetentionTTL     = time.Minute
)

// Options configures a Storage.
type Options struct {
	// Root is the directory artifacts are stored under (--storage-path). It
	// is created when missing.
	Root string
	// AdvAddr is the advertised address of the artifact server
	// (--storage-adv-addr): host[:port], or a URL with an http or https
	// scheme (and optionally a path prefix).
	AdvAddr string
	// DigestAlgo is the digest algorithm of new artifacts
	// (--artifact-digest-algo): sha256 (default), sha384 or sha512.
	DigestAlgo string
	// RetentionRecords is the number of artifacts kept per object
	// (--artifact-retention-records, default 2).
	RetentionRecords int
	// RetentionTTL is how long artifacts of earlier reconciliations are kept
	// (--artifact-retention-ttl, default 1m).
	RetentionTTL time.Duration
	// MaxArchiveSize bounds the size of an artifact's content in bytes: the
	// uncompressed tar stream of an archive, the bytes of a copy. Zero means
	// unlimited.
	MaxArchiveSize int64
	// MaxArchiveFiles bounds how many files an archive holds
	// (--artifact-max-files): a bucket of millions of tiny objects or a
	// repository of generated files fills inodes and the applier's memory
	// long before it reaches the size bound. Zero means unlimited.
	MaxArchiveFiles int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// ErrTooLarge marks content beyond Options.MaxArchiveSize or
// Options.MaxArchiveFiles.
var ErrTooLarge = errors.New("size limit exceeded")

// Storage keeps artifacts on the local file system and knows their URLs.
type Storage struct {
	root    string
	baseURL string
	algo    string
	records int
	ttl     time.Duration
	maxSize int64
	// maxFiles is Options.MaxArchiveFiles.
	maxFiles int
	now      func() time.Time
	locks    *lockTable
	// createTemp creates the temporary file an artifact is written to;
	// createTempFile except in tests that need a full disk.
	createTemp func(dir, pattern string) (tempFile, error)
}

// NewStorage validates opts, creates the root directory when missing and
// returns the storage.
func NewStorage(opts Options) (*Storage, error) {
	if opts.Root == "" {
		return nil, errors.New("storage root is empty")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("storage root %q: %w", opts.Root, err)
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("creating storage root %s: %w", root, err)
	}
	base, err := advertisedURL(opts.AdvAddr)
	if err != nil {
		return nil, err
	}
	algo := opts.DigestAlgo
	if algo == "" {
		algo = DefaultDigestAlgo
	}
	if _, err := newHash(algo); err != nil {
		return nil, fmt.Errorf("artifact digest: %w", err)
	}
	s := &Storage{
		root:       root,
		baseURL:    base,
		algo:       algo,
		records:    opts.RetentionRecords,
		ttl:        opts.RetentionTTL,
		maxSize:    opts.MaxArchiveSize,
		maxFiles:   opts.MaxArchiveFiles,
		now:        opts.Now,
		locks:      newLockTable(),
		createTemp: createTempFile,
	}
	switch {
	case s.records < 0:
		return nil, fmt.Errorf("artifact retention records must not be negative, got %d", s.records)
	case s.records == 0:
		s.records = DefaultRetentionRecords
	}
	switch {
	case s.ttl < 0:
		return nil, fmt.Errorf("artifact retention TTL must not be negative, got %s", s.ttl)
	case s.ttl == 0:
		s.ttl = DefaultRetentionTTL
	}
	if s.maxFiles < 0 {
		return nil, fmt.Errorf("maximum number of archived files must not be negative, got %d", s.maxFiles)
	}
	if s.maxSize < 0 {
		return nil, fmt.Errorf("maximum archive size must not be negative, got %d", s.maxSize)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// advertisedURL turns the advertised address into the base of artifact URLs.
func advertisedURL(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("storage advertised address is empty")
	}
	raw := addr
	if !strings.Contains(addr, "://") {
		raw = "http://" + addr
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("storage advertised address %q: %w", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("storage advertised address %q: scheme must be http or https", addr)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("storage advertised address %q: want host[:port] or http(s)://host[:port][/path]", addr)
	}
	return strings.TrimRight(raw, "/"), nil
}

// Root returns the absolute storage directory.
func (s *Storage) Root() string { return s.root }

// DigestAlgo returns the digest algorithm of new artifacts.
func (s *Storage) DigestAlgo() string { return s.algo }

// ObjectDir is the relative directory the storage files an object's
// artifacts in: <kind lowercased>/<namespace>/<name>. Consumers check
// that an artifact URL lies under its source's directory.
func ObjectDir(kind, namespace, name string) string {
	return strings.ToLower(kind) + "/" + namespace + "/" + name
}

// ArtifactPath returns the relative path of an artifact file:
// <kind lowercased>/<namespace>/<name>/<filename>.
func (s *Storage) ArtifactPath(kind, namespace, name, filename string) string {
	return ObjectDir(kind, namespace, name) + "/" + filename
}

// LocalPath returns the absolute path of the relative artifact path rel. It
// refuses paths that are absolute or escape the root.
func (s *Storage) LocalPath(rel string) (string, error) {
	clean, err := cleanRel(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(clean)), nil
}

// URL returns the address the artifact at rel is served at.
func (s *Storage) URL(rel string) string {
	return s.baseURL + "/" + strings.TrimPrefix((&url.URL{Path: rel}).EscapedPath(), "/")
}

// cleanRel checks that rel is a relative path inside the root and returns it
// cleaned, with forward slashes.
func cleanRel(rel string) (string, error) {
	if rel == "" {
		return "", errors.New("artifact path is empty")
	}
	if strings.ContainsRune(rel, 0) || strings.Contains(rel, `\`) {
		return "", fmt.Errorf("artifact path %q contains a NUL byte or a backslash", rel)
	}
	if path.IsAbs(rel) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("artifact path %q is absolute", rel)
	}
	clean := path.Clean(rel)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("artifact path %q escapes the storage root", rel)
	}
	return clean, nil
}

// fileRel checks that rel names a file an artifact can be written to: inside
// the root, in a directory, with a name that does not start with "." (those
// are reserved for lock and temporary files).
func fileRel(rel string) (string, error) {
	clean, err := cleanRel(rel)
	if err != nil {
		return "", err
	}
	if !strings.Contains(clean, "/") {
		return "", fmt.Errorf("artifact path %q is not inside an object directory", rel)
	}
	if strings.HasPrefix(path.Base(clean), ".") {
		return "", fmt.Errorf("artifact path %q: file names starting with '.' are reserved", rel)
	}
	return clean, nil
}

// objectDir returns the relative and absolute directory of an object.
func (s *Storage) objectDir(kind, namespace, name string) (rel, abs string, err error) {
	for _, c := range []struct{ what, v string }{{"kind", kind}, {"namespace", namespace}, {"name", name}} {
		if c.v == "" || c.v == "." || c.v == ".." || strings.ContainsAny(c.v, "/\\\x00") {
			return "", "", fmt.Errorf("invalid object %s %q", c.what, c.v)
		}
	}
	rel = ObjectDir(kind, namespace, name)
	return rel, filepath.Join(s.root, filepath.FromSlash(rel)), nil
}

// Exists reports whether the artifact's file is present as a regular file.
func (s *Storage) Exists(a *meta.Artifact) bool {
	if a == nil {
		return false
	}
	local, err := s.LocalPath(a.Path)
	if err != nil {
		return false
	}
	info, err := os.Lstat(local)
	return err == nil && info.Mode().IsRegular()
}

// Verify checks that the artifact's file exists and matches its digest (and
// its size, when recorded).
func (s *Storage) Verify(a *meta.Artifact) error {
	if a == nil {
		return errors.New("verifying artifact: no artifact")
	}
	algo, _, err := ParseDigest(a.Digest)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	local, err := s.LocalPath(a.Path)
	if err != nil {
		return fmt.Errorf("verifying artifact: %w", err)
	}
	f, err := os.OpenFile(local, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("verifying artifact %s: not a regular file", a.Path)
	}
	got, size, err := digestReader(f, algo)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: reading: %w", a.Path, err)
	}
	if got != a.Digest {
		return fmt.Errorf("verifying artifact %s: digest mismatch: expected %s, got %s", a.Path, a.Digest, got)
	}
	if a.Size != nil && *a.Size != size {
		return fmt.Errorf("verifying artifact %s: size mismatch: expected %d bytes, got %d", a.Path, *a.Size, size)
	}
	return nil
}

// Copy stores what r yields as the artifact file rel (for artifacts that are
// not archives: a Helm index, a packaged chart), atomically.
func (s *Storage) Copy(r io.Reader, rel string) (*meta.Artifact, error) {
	return s.writeAtomic(rel, func(w io.Writer) error {
		src := r
		if s.maxSize > 0 {
			src = io.LimitReader(r, s.maxSize+1)
		}
		n, err := io.Copy(w, src)
		if err != nil {
			return err
		}
		if s.maxSize > 0 && n > s.maxSize {
			return fmt.Errorf("%w: content exceeds the maximum artifact size of %d bytes", ErrTooLarge, s.maxSize)
		}
		return nil
	})
}

// Symlink points the link linkName, in the directory of the artifact file
// rel, to that file (replacing an existing link atomically) and returns the
// link's URL. The link target is relative, so the storage can move.
func (s *Storage) Symlink(rel, linkName string) (string, error) {
	clean, err := fileRel(rel)
	if err != nil {
		return "", fmt.Errorf("linking %s: %w", linkName, err)
	}
	if linkName == "" || strings.ContainsAny(linkName, "/\\\x00") || strings.HasPrefix(linkName, ".") {
		return "", fmt.Errorf("linking %s: invalid link name %q", clean, linkName)
	}
	local := filepath.Join(s.root, filepath.FromSlash(clean))
	if info, err := os.Lstat(local); err != nil {
		return "", fmt.Errorf("linking %s to %s: %w", linkName, clean, err)
	} else if !info.Mode().IsRegular() {
		return "", fmt.Errorf("linking %s to %s: not a regular file", linkName, clean)
	}
	dir := filepath.Dir(local)
	linkRel := path.Join(path.Dir(clean), linkName)
	tmp := filepath.Join(dir, ".tmp-link-"+linkName+"-"+randomSuffix())
	if err := os.Symlink(filepath.Base(local), tmp); err != nil {
		return "", fmt.Errorf("linking %s to %s: %w", linkRel, clean, storageError(err))
	}
	if err := os.Rename(tmp, filepath.Join(dir, linkName)); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("linking %s to %s: %w", linkRel, clean, err)
	}
	return s.URL(linkRel), nil
}

// RemoveAll deletes every file of an object, its lock included. The caller
// must not hold the object's lock.
func (s *Storage) RemoveAll(kind, namespace, name string) error {
	_, dir, err := s.objectDir(kind, namespace, name)
	if err != nil {
		return fmt.Errorf("removing artifacts: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing artifacts of %s: %w", dir, err)
	}
	return nil
}
