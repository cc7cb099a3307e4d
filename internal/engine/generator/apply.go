package generator

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/driftless/driftless/internal/engine/artifact"
)

// writer writes one output tree through os.Root, so no write leaves it.
type writer struct {
	dir  string
	root *os.Root
	// maxExtract bounds each unpacked tarball (0: unlimited).
	maxExtract int64
}

// apply runs one planned copy with its strategy; Extract unpacks every
// tarball into extractDir, the to directory.
func (w *writer) apply(c opContext, s *sourceRoot, p plan, strategy, extractDir string) error {
	for _, pr := range p.pairs {
		if err := w.applyOne(c, s, p, pr, strategy, extractDir); err != nil {
			return err
		}
	}
	return nil
}

// applyOne copies, merges or extracts one source file, streaming it.
func (w *writer) applyOne(c opContext, s *sourceRoot, p plan, pr pair, strategy, extractDir string) error {
	srcName := "@" + s.alias + "/" + pr.src
	if strategy == StrategyExtract {
		return w.extract(c, s, srcName, pr.src, extractDir, p.single)
	}
	f, mode, err := openSource(s, pr.src)
	if err != nil {
		return c.failed(srcName, err, "cannot read the source file")
	}
	defer f.Close()
	if strategy == StrategyMerge {
		data, err := io.ReadAll(f)
		if err != nil {
			return c.failed(srcName, err, "cannot read the source file")
		}
		return w.merge(c, srcName, pr.dst, data, mode)
	}
	return w.write(c, pr.dst, f, mode)
}

// openSource opens a file of the source and says whether it is executable.
func openSource(s *sourceRoot, rel string) (*os.File, fs.FileMode, error) {
	f, err := s.root.Open(rel)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	mode := fs.FileMode(artifact.FileMode)
	if fi.Mode()&0o111 != 0 {
		mode = artifact.ExecFileMode
	}
	return f, mode, nil
}

// write replaces the output file dst with r, creating its directories.
func (w *writer) write(c opContext, dst string, r io.Reader, mode fs.FileMode) error {
	name := "@artifact/" + dst
	if dst == "" {
		return c.invalid(name, "cannot write a file onto the artifact root; end to with a file name or \"/\"")
	}
	if dir := path.Dir(dst); dir != "." {
		if err := w.root.MkdirAll(dir, artifact.DirMode); err != nil {
			return c.failed(name, err, "cannot create the destination directory (is a file in the way?)")
		}
	}
	if isDir(w.root, dst) {
		return c.failed(name, nil, "a directory is in the way of this file; copy into it with a trailing \"/\" on to")
	}
	out, err := w.root.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return c.failed(name, err, "cannot write the destination file")
	}
	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()
		return c.failed(name, err, "cannot write the destination file")
	}
	if err := out.Close(); err != nil {
		return c.failed(name, err, "cannot write the destination file")
	}
	// OpenFile keeps an existing file's mode; set the source's.
	if err := w.root.Chmod(dst, mode); err != nil {
		return c.failed(name, err, "cannot set the destination file's mode")
	}
	return nil
}

// isTarball reports whether name looks like a gzip-compressed tarball.
func isTarball(name string) bool {
	return strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz")
}

// extract unpacks the tarball src into dir through the artifact kit's
// Untar, keeping the tarball's own structure; a tarball found deeper under a
// glob is unpacked into dir too. A non-tarball is skipped under a glob and an
// error when from named it alone.
func (w *writer) extract(c opContext, s *sourceRoot, srcName, src, dir string, single bool) error {
	if !isTarball(src) {
		if single {
			return c.failed(srcName, nil, "Extract needs a .tar.gz or .tgz file; use Overwrite to copy other files")
		}
		return nil
	}
	if dir != "" {
		if err := w.root.MkdirAll(dir, artifact.DirMode); err != nil {
			return c.failed("@artifact/"+dir, err, "cannot create the extraction directory (is a file in the way?)")
		}
	}
	f, err := s.root.Open(src)
	if err != nil {
		return c.failed(srcName, err, "cannot open the tarball")
	}
	defer f.Close()
	err = artifact.Untar(f, filepath.Join(w.dir, filepath.FromSlash(dir)), artifact.UntarOptions{MaxSize: w.maxExtract})
	if err != nil {
		// An entry leaving the directory is the tarball's fault: stall
		// rather than retry.
		if errors.Is(err, artifact.ErrUnsafeEntry) {
			return &Error{Kind: ErrValidationFailed, Artifact: c.artifact, Op: c.op, Path: srcName,
				Detail: "the tarball has an entry outside its root; rebuild it without \"../\" or absolute names", Err: err}
		}
		return c.failed(srcName, err, "cannot extract the tarball")
	}
	return nil
}
