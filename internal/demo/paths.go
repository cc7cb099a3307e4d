package demo

import (
	"fmt"
	"os"
	"path/filepath"
)

// isRepoRoot reports whether dir holds what the demo needs from the
// repository: the fleet example and the CRDs.
func isRepoRoot(dir string) bool {
	for _, p := range []string{"examples/fleet", "config/crd/bases"} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// findRepoRoot returns the repository root: root if given, else the parent
// of the directory holding the demo binary (bin/..), else the working
// directory or one of its parents.
func findRepoRoot(root, exe string) (string, error) {
	if root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return "", err
		}
		if !isRepoRoot(abs) {
			return "", fmt.Errorf("--repo-root %s has no examples/fleet and config/crd/bases: point it at a Driftless checkout", root)
		}
		return abs, nil
	}
	if exe != "" {
		if dir := filepath.Dir(filepath.Dir(exe)); isRepoRoot(dir) {
			return dir, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isRepoRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the Driftless repository (examples/fleet, config/crd/bases) from %s or the working directory: pass --repo-root", exe)
		}
		dir = parent
	}
}

// findBinary returns the path of a Driftless binary: next to the demo's own
// binary, else in ROOT/bin.
func findBinary(name, exe, root string) (string, error) {
	var tried []string
	for _, dir := range []string{filepath.Dir(exe), filepath.Join(root, "bin")} {
		if dir == "." || dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		tried = append(tried, p)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (looked at %v): run make build", name, tried)
}
