package artifact

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/driftless/driftless/internal/engine/ignore"
)

// WriteArchive writes the tar.gz of the directory dir to w, byte for byte
// what Archive stores for it (the same entries, order, headers and
// compression), without a size limit. `flux build artifact` uses it to
// build locally the artifact source-controller would.
func WriteArchive(w io.Writer, dir string, m ignore.Matcher) error {
	src, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	}
	if info, err := os.Stat(src); err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	} else if !info.IsDir() {
		return fmt.Errorf("archiving %s: not a directory", dir)
	}
	if err := writeTarGz(w, src, m, 0, 0); err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	}
	return nil
}
