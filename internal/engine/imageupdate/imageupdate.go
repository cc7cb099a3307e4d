// Package imageupdate is the Setters strategy of ImageUpdateAutomation: it
// finds the `{"$imagepolicy": "<namespace>:<name>[:tag|:name|:digest]"}`
// markers in the YAML files of a checkout and writes each policy's latest
// image into the marked values.
//
// Only files named *.yaml or *.yml that contain the token `$imagepolicy`
// are parsed (every document of each, with kyaml's YAML parser); all other
// files, Helm templates without markers included, are never read twice or
// written. A marked value is rewritten in place in the original bytes, so a
// changed file differs from the original only on the marked lines:
// comments, key order, indentation, quoting, document separators and CRLF
// line endings stay as they were. Files are written atomically with their
// original mode, and only when a value changed.
//
// The walk is confined with os.Root: an update path or a symbolic link
// that leaves the checkout is refused, and links are never followed. The
// package holds no global state (kyaml's OpenAPI schema is never touched),
// so any number of automations may run at once.
package imageupdate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Token is what a file must contain to be parsed at all.
const Token = "$imagepolicy"

// DefaultMaxFileSize bounds the size of a marked file that is parsed.
const DefaultMaxFileSize = 8 << 20

// Image is a policy's latest image (its status.latestRef).
type Image struct {
	// Name is the image name as the ImageRepository writes it.
	Name string
	// Tag is the picked tag.
	Tag string
	// Digest is the reflected digest, empty when the policy reflects none.
	Digest string
}

// Ref is the whole reference a full marker writes: name:tag, with
// @digest when the policy reflects one.
func (i Image) Ref() string {
	if i.Digest == "" {
		return i.Name + ":" + i.Tag
	}
	return i.Name + ":" + i.Tag + "@" + i.Digest
}

// Options says what to update.
type Options struct {
	// Root is the checkout's directory.
	Root string
	// Path is update.path, relative to Root; empty means Root.
	Path string
	// Policies maps "<namespace>:<name>" to the policy's latest image.
	Policies map[string]Image
	// MaxFileSize bounds a marked file's size; 0 means DefaultMaxFileSize.
	MaxFileSize int64
}

// ObjectID names the object a change was made in.
type ObjectID struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// Change is one rewritten value.
type Change struct {
	// File is relative to the root, with slashes.
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Object   ObjectID `json:"object"`
	OldValue string   `json:"oldValue"`
	NewValue string   `json:"newValue"`
	// Setter is the marker's value, e.g. "flux-system:app:tag".
	Setter string `json:"setter"`
}

// Missing is a marker naming a policy that is not among Options.Policies;
// its value is left alone.
type Missing struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Policy string `json:"policy"`
}

// Skipped is a file, or one marker (Line > 0), that was left alone, and
// why: not valid YAML, too large, a link leaving the checkout, a marker
// that cannot be applied.
type Skipped struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

// MaxReports bounds Missing and Skipped together, so that a repository
// full of broken markers cannot grow a Result without end.
const MaxReports = 1000

// Result is what a run did.
type Result struct {
	Changes []Change  `json:"changes,omitempty"`
	Files   []string  `json:"files,omitempty"`
	Missing []Missing `json:"missing,omitempty"`
	Skipped []Skipped `json:"skipped,omitempty"`
	// Unreported counts the problems left out past MaxReports.
	Unreported int `json:"unreported,omitempty"`
}

func (r *Result) full() bool {
	if len(r.Missing)+len(r.Skipped) < MaxReports {
		return false
	}
	r.Unreported++
	return true
}

func (r *Result) skip(s Skipped) {
	if !r.full() {
		r.Skipped = append(r.Skipped, s)
	}
}

func (r *Result) missing(m Missing) {
	if !r.full() {
		r.Missing = append(r.Missing, m)
	}
}

// Apply rewrites the marked values under opts.Root/opts.Path. It fails
// only when the update path cannot be walked or a file cannot be written;
// what is wrong with one file or marker is in the Result.
func Apply(ctx context.Context, opts Options) (Result, error) {
	var res Result
	root, err := os.OpenRoot(opts.Root)
	if err != nil {
		return res, fmt.Errorf("open checkout: %w", err)
	}
	defer root.Close()
	base, err := cleanPath(opts.Path)
	if err != nil {
		return res, err
	}
	if _, err := root.Stat(base); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("update.path '%s' does not exist in the repository", opts.Path)
		}
		return res, fmt.Errorf("update.path '%s' leaves the repository or cannot be read: set a directory inside it", opts.Path)
	}
	limit := opts.MaxFileSize
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	err = fs.WalkDir(root.FS(), base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != base && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			checkLink(root, p, &res)
			return nil
		}
		if !d.Type().IsRegular() || !isYAMLName(p) {
			return nil
		}
		return updateFile(root, p, d, limit, opts.Policies, &res)
	})
	if err != nil {
		return res, err
	}
	sort.Strings(res.Files)
	return res, nil
}

// cleanPath turns update.path into a slash path inside the root.
func cleanPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	c := path.Clean(filepath.ToSlash(p))
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("update.path '%s' leaves the repository: set a path relative to its root", p)
	}
	return c, nil
}

func isYAMLName(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}

// checkLink reports a symbolic link that points outside the checkout.
// Links are never followed: a link inside the checkout names a file the
// walk visits anyway when it is under the update path.
func checkLink(root *os.Root, p string, res *Result) {
	target, err := root.Readlink(p)
	if err != nil {
		res.skip(Skipped{File: p, Reason: "symbolic link that cannot be read; not followed"})
		return
	}
	t := filepath.ToSlash(target)
	if !path.IsAbs(t) {
		t = path.Join(path.Dir(p), t)
	}
	if path.IsAbs(t) || t == ".." || strings.HasPrefix(t, "../") {
		res.skip(Skipped{File: p,
			Reason: "symbolic link leaving the repository; refused"})
	}
}

func updateFile(root *os.Root, p string, d fs.DirEntry, limit int64, policies map[string]Image, res *Result) error {
	info, err := d.Info()
	if err != nil {
		return fmt.Errorf("stat %s: %w", p, err)
	}
	if info.Size() > limit {
		// Read a bounded prefix only to see whether the file is marked.
		if marked, err := hasToken(root, p, limit); err != nil || !marked {
			return err
		}
		res.skip(Skipped{File: p,
			Reason: fmt.Sprintf("file of %d bytes is larger than the limit of %d bytes; not parsed", info.Size(), limit)})
		return nil
	}
	data, err := root.ReadFile(p)
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	out, changed := updateBytes(p, data, policies, res)
	if !changed {
		return nil
	}
	if err := writeAtomic(root, p, out, info.Mode().Perm()); err != nil {
		return err
	}
	res.Files = append(res.Files, p)
	return nil
}

// updateBytes rewrites one file's content; a file without the token is
// not parsed at all.
func updateBytes(file string, data []byte, policies map[string]Image, res *Result) ([]byte, bool) {
	if !bytes.Contains(data, []byte(Token)) {
		return data, false
	}
	return rewrite(file, data, policies, res)
}

func hasToken(root *os.Root, p string, limit int64) (bool, error) {
	f, err := root.Open(p)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	carry := ""
	var n int64
	for n < limit {
		k, err := f.Read(buf)
		chunk := carry + string(buf[:k])
		if strings.Contains(chunk, Token) {
			return true, nil
		}
		carry = chunk[max(0, len(chunk)-len(Token)):]
		n += int64(k)
		if err != nil {
			break
		}
	}
	return false, nil
}

// writeAtomic replaces p with data through a temporary file in the same
// directory, keeping the mode.
func writeAtomic(root *os.Root, p string, data []byte, mode fs.FileMode) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(p), "."+path.Base(p)+".imageupdate-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Chmod(tmp, mode)
	}
	if werr == nil {
		werr = root.Rename(tmp, p)
	}
	if werr != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("write %s: %w", p, werr)
	}
	return nil
}
