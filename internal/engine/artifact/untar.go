package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// UntarOptions limits what Untar accepts. Zero values mean unlimited.
type UntarOptions struct {
	// MaxSize bounds the bytes decompressed from the archive (the tar
	// stream: headers and content), against tar and gzip bombs.
	MaxSize int64
	// MaxFiles bounds the number of entries.
	MaxFiles int
	// SkipLinks skips symbolic and hard link entries instead of failing.
	// Links are never created either way.
	SkipLinks bool
	// SkipSymlinks skips symbolic link entries only and still refuses hard
	// links, as Flux does when it unpacks an OCI artifact's layer.
	SkipSymlinks bool
}

// errExpanded marks the decompressed stream passing UntarOptions.MaxSize.
type errExpanded struct{ max int64 }

func (e errExpanded) Error() string {
	return fmt.Sprintf("archive expands beyond the maximum size of %d bytes", e.max)
}

// limitedReader fails with errExpanded once more than max bytes were read.
type limitedReader struct {
	r    io.Reader
	max  int64
	read int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.read += int64(n)
	if l.max > 0 && l.read > l.max {
		return n, errExpanded{l.max}
	}
	return n, err
}

// Untar extracts the gzip-compressed tar archive r into dir, which is created
// when missing. Only regular files and directories are created: absolute
// names and names escaping dir are refused, symbolic and hard links, devices
// and pipes are refused (links are skipped with SkipLinks), and nothing is
// ever written outside dir, even through links already inside it. Errors
// name the offending entry. On error dir may hold part of the archive.
func Untar(r io.Reader, dir string, opts UntarOptions) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("reading archive: not a gzip stream: %w", err)
	}
	defer gz.Close()
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer root.Close()

	lr := &limitedReader{r: gz, max: opts.MaxSize}
	tr := tar.NewReader(lr)
	entries := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readError(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, err := entryName(h.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue // the archive's root directory
		}
		entries++
		if opts.MaxFiles > 0 && entries > opts.MaxFiles {
			return fmt.Errorf("archive has more than %d entries (at %q)", opts.MaxFiles, h.Name)
		}
		if err := extract(root, tr, h, name, lr, opts); err != nil {
			return err
		}
	}
}

func readError(err error) error {
	var big errExpanded
	if errors.As(err, &big) {
		return big
	}
	return fmt.Errorf("reading archive: %w", err)
}

// ErrUnsafeEntry marks an archive entry whose name would land outside the
// target directory (absolute, "..") or cannot be a file name at all: the
// archive itself is at fault, and fetching it again cannot help.
var ErrUnsafeEntry = errors.New("unsafe archive entry")

// entryName checks an entry name and returns it cleaned.
func entryName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("archive entry with an empty name: %w", ErrUnsafeEntry)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("archive entry %q: name contains a NUL byte: %w", name, ErrUnsafeEntry)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("archive entry %q: absolute paths are not allowed: %w", name, ErrUnsafeEntry)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("archive entry %q: path escapes the target directory: %w", name, ErrUnsafeEntry)
	}
	return clean, nil
}

// extract creates one entry.
func extract(root *os.Root, tr *tar.Reader, h *tar.Header, name string, lr *limitedReader, opts UntarOptions) error {
	switch h.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, DirMode); err != nil {
			return fmt.Errorf("archive entry %q: %w", h.Name, err)
		}
		return nil
	case tar.TypeReg:
		if opts.MaxSize > 0 && lr.read+h.Size > opts.MaxSize {
			return fmt.Errorf("archive entry %q: %d bytes exceed the maximum size of %d bytes", h.Name, h.Size, opts.MaxSize)
		}
		return writeEntry(root, tr, h, name)
	case tar.TypeSymlink, tar.TypeLink:
		if opts.SkipLinks || (opts.SkipSymlinks && h.Typeflag == tar.TypeSymlink) {
			return nil
		}
		return fmt.Errorf("archive entry %q: links are not allowed (link to %q)", h.Name, h.Linkname)
	}
	return fmt.Errorf("archive entry %q: unsupported type %q (only files and directories are allowed)", h.Name, string(h.Typeflag))
}

func writeEntry(root *os.Root, tr *tar.Reader, h *tar.Header, name string) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, DirMode); err != nil {
			return fmt.Errorf("archive entry %q: %w", h.Name, err)
		}
	}
	mode := os.FileMode(FileMode)
	if h.Mode&0o111 != 0 {
		mode = ExecFileMode
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("archive entry %q: %w", h.Name, err)
	}
	if _, err := io.Copy(f, tr); err != nil {
		_ = f.Close()
		var big errExpanded
		if errors.As(err, &big) {
			return fmt.Errorf("archive entry %q: %w", h.Name, big)
		}
		return fmt.Errorf("archive entry %q: %w", h.Name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("archive entry %q: %w", h.Name, err)
	}
	return nil
}
