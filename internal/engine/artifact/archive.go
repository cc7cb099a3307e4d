package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/ignore"
)

// Modes of the entries of an archive, whatever the modes on disk.
const (
	DirMode      = 0o750
	FileMode     = 0o600
	ExecFileMode = 0o700
)

// tarBlock is the tar record size: headers take one, content is padded to it.
const tarBlock = 512

// dirSkipper is implemented by matchers that can tell a directory's whole
// subtree is excluded (ignore.Rules does).
type dirSkipper interface {
	SkipDir(path []string) bool
}

// Archive writes the directory dir as the gzip-compressed tar artifact rel,
// atomically, and returns the artifact (without a revision). Paths matched by
// m (nil: none) are left out. The archive holds regular files and
// directories only (symbolic links, even to directories, are never followed
// and are dropped, like devices, pipes and sockets), named relative to dir
// with forward slashes, in lexical order depth first, with uid and gid 0, no
// user or group names, times at the Unix epoch and modes normalised
// (directories 0750, files 0600, executables 0700); the gzip header has no
// name and no time. The bytes, and so the digest, depend on content alone.
func (s *Storage) Archive(dir, rel string, m ignore.Matcher) (*meta.Artifact, error) {
	src, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("archiving %s: %w", dir, err)
	}
	if info, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("archiving %s: %w", dir, err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("archiving %s: not a directory", dir)
	}
	a, err := s.writeAtomic(rel, func(w io.Writer) error {
		return writeTarGz(w, src, m, s.maxSize, s.maxFiles)
	})
	if err != nil {
		return nil, fmt.Errorf("archiving %s: %w", dir, err)
	}
	return a, nil
}

// writeTarGz writes the deterministic tar.gz of root to w. max bounds the
// uncompressed tar stream, maxFiles the regular files (0: unlimited).
func writeTarGz(w io.Writer, root string, m ignore.Matcher, max int64, maxFiles int) error {
	gw := gzip.NewWriter(w)
	tw := tar.NewWriter(gw)
	a := &archiver{tw: tw, root: root, m: m, max: max, maxFiles: maxFiles, epoch: time.Unix(0, 0)}
	if err := filepath.WalkDir(root, a.visit); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gw.Close()
}

type archiver struct {
	tw      *tar.Writer
	root    string
	m       ignore.Matcher
	max     int64
	written int64 // uncompressed tar bytes so far
	// maxFiles bounds files, the regular files written so far.
	maxFiles, files int
	epoch           time.Time
}

func (a *archiver) visit(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return fmt.Errorf("walking %s: %w", p, err)
	}
	if p == a.root {
		return nil
	}
	rel, err := filepath.Rel(a.root, p)
	if err != nil {
		return err
	}
	name := filepath.ToSlash(rel)
	comps := strings.Split(name, "/")
	switch {
	case d.IsDir():
		if a.m != nil && a.m.Match(comps, true) {
			if sk, ok := a.m.(dirSkipper); ok && sk.SkipDir(comps) {
				return fs.SkipDir
			}
			return nil
		}
		return a.write(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: DirMode, ModTime: a.epoch}, name)
	case d.Type().IsRegular():
		if a.m != nil && a.m.Match(comps, false) {
			return nil
		}
		if a.files++; a.maxFiles > 0 && a.files > a.maxFiles {
			return fmt.Errorf("%w: archive holds more files than the maximum of %d (--artifact-max-files) at %s", ErrTooLarge, a.maxFiles, name)
		}
		return a.addFile(p, name)
	default:
		return nil // symbolic links, devices, pipes, sockets
	}
}

// write writes a header after checking the size limit.
func (a *archiver) write(h *tar.Header, name string) error {
	a.written += tarBlock + (h.Size+tarBlock-1)/tarBlock*tarBlock
	if a.max > 0 && a.written+2*tarBlock > a.max {
		return fmt.Errorf("%w: archive exceeds the maximum size of %d bytes at %s", ErrTooLarge, a.max, name)
	}
	if err := a.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("writing header of %s: %w", name, err)
	}
	return nil
}

// addFile adds a regular file. It is opened without following a symbolic
// link, so a file swapped for a link after the walk saw it is refused.
func (a *archiver) addFile(p, name string) error {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil // became a symbolic link: dropped like the others
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	mode := int64(FileMode)
	if info.Mode().Perm()&0o111 != 0 {
		mode = ExecFileMode
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: info.Size(), ModTime: a.epoch}
	if err := a.write(h, name); err != nil {
		return err
	}
	n, err := io.Copy(a.tw, io.LimitReader(f, h.Size))
	if err != nil {
		return fmt.Errorf("adding %s: %w", name, err)
	}
	if n != h.Size {
		return fmt.Errorf("reading %s: file shrank from %d to %d bytes while archiving", name, h.Size, n)
	}
	return nil
}
