package artifact

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// tempPrefix starts the names of files being written; such files are never
// served and are collected as garbage once stale.
const tempPrefix = ".tmp-"

// tempFile is the file an artifact is written to before it is renamed.
type tempFile interface {
	io.Writer
	Name() string
	Sync() error
	Close() error
}

func createTempFile(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }

// writeAtomic writes the artifact file rel with fill: into a temporary file
// in the same directory, synced, then renamed into place. On any error the
// temporary file is removed and nothing appears at rel.
func (s *Storage) writeAtomic(rel string, fill func(w io.Writer) error) (*meta.Artifact, error) {
	clean, err := fileRel(rel)
	if err != nil {
		return nil, fmt.Errorf("writing artifact: %w", err)
	}
	local := filepath.Join(s.root, filepath.FromSlash(clean))
	dir := filepath.Dir(local)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("writing artifact %s: creating directory: %w", clean, storageError(err))
	}
	tmp, err := s.createTemp(dir, tempPrefix+filepath.Base(local)+"-*")
	if err != nil {
		return nil, fmt.Errorf("writing artifact %s: %w", clean, storageError(err))
	}
	d, err := newDigester(s.algo)
	if err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return nil, err
	}
	if err := writeTemp(tmp, d, fill); err != nil {
		_ = os.Remove(tmp.Name())
		return nil, fmt.Errorf("writing artifact %s: %w", clean, storageError(err))
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		_ = os.Remove(tmp.Name())
		return nil, fmt.Errorf("writing artifact %s: %w", clean, storageError(err))
	}
	syncDir(dir)
	size := d.size
	return &meta.Artifact{
		Path:           clean,
		URL:            s.URL(clean),
		Digest:         d.Digest(),
		Size:           &size,
		LastUpdateTime: metav1.NewTime(s.now()),
	}, nil
}

// writeTemp fills tmp through a buffer and the digester, syncs and closes it.
func writeTemp(tmp tempFile, d *digester, fill func(w io.Writer) error) error {
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err := fill(io.MultiWriter(bw, d))
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return err
}

// storageError makes a full disk (or an exhausted quota) say so.
func storageError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("storage is full (no space left on device): %w", err)
	case errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("storage quota exhausted: %w", err)
	}
	return err
}

// syncDir flushes a directory entry change to disk, on a best-effort basis:
// the rename already happened and is visible either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// randomSuffix returns a short random hex string for temporary names.
func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
