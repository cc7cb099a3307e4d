package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/engine/ignore"
)

// stdinPath is the --path that reads the content from standard input.
const stdinPath = "-"

// stdinFileName names the one file of an artifact read from standard
// input. Flux gives it a random name; a fixed one keeps --reproducible
// pushes of the same input identical.
const stdinFileName = "stdin.yaml"

// maxStdinSize bounds what `--path -` reads from standard input.
const maxStdinSize = 100 << 20

// packOptions say what `flux build|push|diff artifact` archive.
type packOptions struct {
	// path is a directory, a single file, or stdinPath.
	path string
	// ignorePaths are --ignore-paths; nil leaves the default exclusions of
	// a GitRepository (ignore.Load with no spec.ignore).
	ignorePaths []string
	// resolveSymlinks archives what links inside path point to instead of
	// leaving them out.
	resolveSymlinks bool
	// skip are absolute paths of files left out (the output of build).
	skip []string
}

// packArtifact writes the artifact of o.path to w: for a directory, the
// tarball source-controller stores for a GitRepository of it (the same
// archiver, .sourceignore files and --ignore-paths as spec.ignore), so the
// same content always gives the same digest; a single file or standard
// input becomes a tarball of that one file, without ignore rules.
func packArtifact(f *Factory, o packOptions, w io.Writer) error {
	if o.path == "" {
		return errors.New("--path is required: the directory or file to archive")
	}
	if o.path == stdinPath {
		return packStdin(f, w)
	}
	abs, err := filepath.Abs(o.path)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return fmt.Errorf("--path %s: must be an existing directory or file: %w", o.path, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("--path %s: %w", o.path, err)
	}
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return fmt.Errorf("--path %s is neither a directory nor a regular file", o.path)
		}
		return packFile(abs, filepath.Base(o.path), w)
	}
	return packDir(f, abs, o, w)
}

// packDir archives the directory dir (absolute, links resolved).
func packDir(f *Factory, dir string, o packOptions, w io.Writer) error {
	root := dir
	if o.resolveSymlinks {
		tmp, err := os.MkdirTemp("", "flux-artifact-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := (&linkResolver{root: dir, visiting: map[string]bool{}}).copyDir(dir, tmp, ""); err != nil {
			return err
		}
		root = tmp
	} else {
		warnSymlinks(f, dir)
	}
	var spec *string
	if len(o.ignorePaths) > 0 {
		s := strings.Join(o.ignorePaths, "\n")
		spec = &s
	}
	rules, err := ignore.Load(root, spec)
	if err != nil {
		return fmt.Errorf("reading the ignore rules of %s: %w", o.path, err)
	}
	m := &excludeFiles{Rules: rules, files: map[string]bool{}}
	for _, p := range o.skip {
		if rel, err := filepath.Rel(dir, p); err == nil && filepath.IsLocal(rel) {
			m.files[filepath.ToSlash(rel)] = true
		}
	}
	return artifact.WriteArchive(w, root, m)
}

// packFile archives the regular file src as the one entry name.
func packFile(src, name string, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "flux-artifact-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if err := copyFile(src, filepath.Join(tmp, name), info.Mode().Perm()); err != nil {
		return err
	}
	return artifact.WriteArchive(w, tmp, nil)
}

// packStdin archives standard input as the one file stdinFileName.
func packStdin(f *Factory, w io.Writer) error {
	b, err := io.ReadAll(io.LimitReader(f.In, maxStdinSize+1))
	if err != nil {
		return fmt.Errorf("--path -: reading standard input: %w", err)
	}
	if len(b) > maxStdinSize {
		return fmt.Errorf("--path -: standard input is over %d bytes", maxStdinSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("--path -: standard input is empty: pipe the manifests to archive, e.g. kustomize build . | flux push artifact ... -f -")
	}
	tmp, err := os.MkdirTemp("", "flux-artifact-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, stdinFileName), b, 0o600); err != nil {
		return err
	}
	return artifact.WriteArchive(w, tmp, nil)
}
