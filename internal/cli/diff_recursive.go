package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/driftless/driftless/internal/ignore"
)

// filteredCopy copies the directory root into a new temporary directory,
// leaving out what the source-controller would leave out of an artifact:
// the patterns of --ignore-paths (gitignore format), the .sourceignore files
// of the tree and the default exclusions. The caller removes the copy.
func filteredCopy(root string, ignorePaths []string) (string, error) {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("--path %s is not a directory", root)
	}
	patterns := strings.Join(ignorePaths, "\n")
	rules, err := ignore.Load(root, &patterns)
	if err != nil {
		return "", fmt.Errorf("--ignore-paths: %w", err)
	}
	tmp, err := os.MkdirTemp("", "flux-diff-")
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() && rules.SkipDir(parts) {
			return filepath.SkipDir
		}
		if rules.Match(parts, d.IsDir()) && !d.IsDir() {
			return nil
		}
		dst := filepath.Join(tmp, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}
		return nil
	})
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("copy %s without the ignored paths: %w", root, err)
	}
	return tmp, nil
}
