package kustomize

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is returned by the write operations of the build filesystem.
var errReadOnly = errors.New("the artifact is read-only during a build")

// confinedFS is the filesystem kustomize sees during a build: the artifact
// on disk, read-only, confined to its root after resolving symbolic links,
// plus an in-memory overlay of files that replace or add to the artifact's
// (the kustomization with the spec fields applied, decrypted generator
// sources). When remote bases are allowed, the temporary directories
// kustomize clones them into are readable too. Files are read up to
// maxSize bytes, and every operation fails once stop is done, which ends
// a kustomize run that outlives its build.
type confinedFS struct {
	root    string            // absolute, symbolic links resolved
	overlay map[string][]byte // absolute resolved path -> content
	clones  string            // prefix of kustomize's clone directories, or ""
	maxSize int64             // the size limit of one file
	stop    context.Context   // the build's context, or nil

	tooLarge error // the first file refused for its size, kept for errors.Is

	// exclude hides files and directories of the artifact from the build,
	// as if they did not exist (Options.Exclude); nil hides nothing.
	exclude func(rel string, dir bool) bool
}

// excluded reports whether the path p below the root is hidden by exclude.
func (c *confinedFS) excluded(p string, dir bool) bool {
	if c.exclude == nil || p == c.root || !within(p, c.root) {
		return false
	}
	rel, err := filepath.Rel(c.root, p)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	for i := range len(rel) { // a hidden directory hides what is below it
		if rel[i] == '/' && c.exclude(rel[:i], true) {
			return true
		}
	}
	return c.exclude(rel, dir)
}

// hidden reports whether the existing path p (unresolved) is excluded.
func (c *confinedFS) hidden(p string) bool {
	if c.exclude == nil {
		return false
	}
	info, err := os.Stat(p)
	return err == nil && c.excluded(p, info.IsDir())
}

// newConfinedFS returns the filesystem of the artifact at root.
func newConfinedFS(root string, allowClones bool) (*confinedFS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("artifact root: %w", err)
	}
	c := &confinedFS{root: real, overlay: map[string][]byte{}, maxSize: DefaultMaxFileSize}
	if allowClones {
		tmp, err := filepath.EvalSymlinks(os.TempDir())
		if err != nil {
			return nil, fmt.Errorf("temporary directory: %w", err)
		}
		c.clones = filepath.Join(tmp, "kustomize-")
	}
	return c, nil
}

// escapeError reports a path that leaves the artifact.
type escapeError struct{ path string }

func (e *escapeError) Error() string {
	return fmt.Sprintf("path %q is outside the artifact root", e.path)
}

func (e *escapeError) Unwrap() error { return ErrPathEscapes }

// within reports whether p is root or below it.
func within(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator))
}

// allowed reports whether the resolved path p may be read.
func (c *confinedFS) allowed(p string) bool {
	if within(p, c.root) {
		return true
	}
	return c.clones != "" && strings.HasPrefix(p, c.clones)
}

// rel returns p relative to the artifact root, for messages; a path
// outside the root starts with "..", a clone directory is kept as is.
func (c *confinedFS) rel(p string) string {
	if c.clones != "" && strings.HasPrefix(p, c.clones) {
		return p
	}
	if r, err := filepath.Rel(c.root, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// resolve returns the absolute path, symbolic links resolved, of a path
// that must stay inside the artifact. overlay reports an overlay file.
func (c *confinedFS) resolve(path string) (resolved string, overlay bool, err error) {
	if err := c.stopped(); err != nil {
		return "", false, err
	}
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.root, p)
	}
	p = filepath.Clean(p)
	if _, ok := c.overlay[p]; ok {
		return p, true, nil
	}
	if !c.allowed(p) {
		return "", false, &escapeError{path: c.rel(p)}
	}
	if c.hidden(p) {
		return p, false, &fs.PathError{Op: "open", Path: c.rel(p), Err: fs.ErrNotExist}
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		cand := filepath.Join(dir, filepath.Base(p))
		if _, ok := c.overlay[cand]; ok {
			return cand, true, nil
		}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return p, false, err
	}
	if !c.allowed(real) {
		return "", false, &escapeError{path: c.rel(p)}
	}
	return real, false, nil
}

// stopped returns why the build ended, once its context is done.
func (c *confinedFS) stopped() error {
	if c.stop == nil || c.stop.Err() == nil {
		return nil
	}
	return context.Cause(c.stop)
}

// checkSize refuses the file at the resolved path p when its size is over
// the limit.
func (c *confinedFS) checkSize(p string, size int64) error {
	if size <= c.maxSize {
		return nil
	}
	err := fmt.Errorf("%w: %s exceeds the limit of %d bytes per file", ErrFileTooLarge, c.rel(p), c.maxSize)
	if c.tooLarge == nil {
		c.tooLarge = err
	}
	return err
}

// fileError prefixes err with the file at the resolved path p, unless it
// already names it.
func (c *confinedFS) fileError(p string, err error) error {
	if errors.Is(err, ErrFileTooLarge) {
		return err
	}
	return fmt.Errorf("%s: %w", c.rel(p), err)
}

// readLimited reads the regular file at the resolved path p, up to the
// size limit (a file that grows while it is read is refused too).
func (c *confinedFS) readLimited(p string) ([]byte, error) {
	f, err := c.openRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, c.maxSize+1))
	if err != nil {
		return nil, err
	}
	if err := c.checkSize(p, int64(len(data))); err != nil {
		return nil, err
	}
	return data, nil
}

// openRegular opens the file at the resolved path p when it is a regular
// file within the size limit: a named pipe or a device would block or
// never end.
func (c *confinedFS) openRegular(p string) (*os.File, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		if info.IsDir() {
			return os.Open(p) // kustomize reports the directory
		}
		return nil, fmt.Errorf("%s is not a regular file", c.rel(p))
	}
	if err := c.checkSize(p, info.Size()); err != nil {
		return nil, err
	}
	return os.Open(p)
}

// setOverlay adds or replaces the file at the resolved path p.
func (c *confinedFS) setOverlay(p string, data []byte) { c.overlay[p] = data }

func (c *confinedFS) Create(string) (filesys.File, error) { return nil, errReadOnly }

func (c *confinedFS) Mkdir(string) error { return errReadOnly }

func (c *confinedFS) MkdirAll(string) error { return errReadOnly }

func (c *confinedFS) WriteFile(string, []byte) error { return errReadOnly }

// RemoveAll only removes kustomize's clone directories, when allowed.
func (c *confinedFS) RemoveAll(path string) error {
	p := filepath.Clean(path)
	if c.clones == "" || !strings.HasPrefix(p, c.clones) {
		return errReadOnly
	}
	return os.RemoveAll(p)
}

func (c *confinedFS) Open(path string) (filesys.File, error) {
	p, overlay, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	if overlay {
		if err := c.checkSize(p, int64(len(c.overlay[p]))); err != nil {
			return nil, err
		}
		return &memFile{Reader: bytes.NewReader(c.overlay[p]), name: filepath.Base(p), size: int64(len(c.overlay[p]))}, nil
	}
	return c.openRegular(p)
}

func (c *confinedFS) IsDir(path string) bool {
	p, overlay, err := c.resolve(path)
	if err != nil || overlay {
		return false
	}
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

func (c *confinedFS) Exists(path string) bool {
	p, overlay, err := c.resolve(path)
	if err != nil {
		return false
	}
	if overlay {
		return true
	}
	_, err = os.Stat(p)
	return err == nil
}

func (c *confinedFS) ReadDir(path string) ([]string, error) {
	p, _, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range entries {
		seen[e.Name()] = true
		if c.excluded(filepath.Join(p, e.Name()), e.IsDir()) {
			continue
		}
		names = append(names, e.Name())
	}
	for o := range c.overlay {
		if filepath.Dir(o) == p && !seen[filepath.Base(o)] {
			names = append(names, filepath.Base(o))
		}
	}
	sort.Strings(names)
	return names, nil
}

// CleanedAbs splits a path into its resolved directory and file name, as
// kustomize's on-disk filesystem does.
func (c *confinedFS) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	p, overlay, err := c.resolve(path)
	if err != nil {
		return "", "", err
	}
	if overlay {
		return filesys.ConfirmedDir(filepath.Dir(p)), filepath.Base(p), nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return "", "", err
	}
	if info.IsDir() {
		return filesys.ConfirmedDir(p), "", nil
	}
	return filesys.ConfirmedDir(filepath.Dir(p)), filepath.Base(p), nil
}

func (c *confinedFS) Glob(pattern string) ([]string, error) {
	if err := c.stopped(); err != nil {
		return nil, err
	}
	p := pattern
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.root, p)
	}
	matches, err := filepath.Glob(p)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		if c.hidden(m) {
			continue
		}
		if real, err := filepath.EvalSymlinks(m); err == nil && c.allowed(real) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (c *confinedFS) ReadFile(path string) ([]byte, error) {
	p, overlay, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	if overlay {
		if err := c.checkSize(p, int64(len(c.overlay[p]))); err != nil {
			return nil, err
		}
		return bytes.Clone(c.overlay[p]), nil
	}
	return c.readLimited(p)
}

// Walk walks the artifact below path without following symbolic links to
// directories; overlay files are not visited.
func (c *confinedFS) Walk(path string, walkFn filepath.WalkFunc) error {
	p, _, err := c.resolve(path)
	if err != nil {
		return err
	}
	return filepath.Walk(p, func(q string, info os.FileInfo, err error) error {
		if err == nil && c.excluded(q, info.IsDir()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return walkFn(q, info, err)
	})
}

// memFile is an overlay file opened for reading.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f *memFile) Write([]byte) (int, error) { return 0, errReadOnly }

func (f *memFile) Close() error { return nil }

func (f *memFile) Stat() (os.FileInfo, error) { return memInfo{name: f.name, size: f.size}, nil }

// memInfo describes an overlay file.
type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

var _ filesys.FileSystem = (*confinedFS)(nil)
