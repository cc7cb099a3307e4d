package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/ignore"
)

type buildArtifactOptions struct {
	path, output    string
	ignorePaths     []string
	resolveSymlinks bool
}

// newBuildArtifactCommand is `flux build artifact`: the tarball
// source-controller would store for the directory, built locally.
func newBuildArtifactCommand(f *Factory) *cobra.Command {
	o := &buildArtifactOptions{}
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Build an artifact tarball from a local directory",
		Long: "Build artifact writes the gzip-compressed tarball of a directory exactly as Driftless's\n" +
			"source-controller archives a GitRepository: the same entries in the same order, normalised modes,\n" +
			"no owners or times, so the same content always gives the same bytes and digest. The same ignore\n" +
			"rules apply: .git and the .sourceignore files of the tree, then --ignore-paths as spec.ignore.\n" +
			"Symbolic links are left out, as in the GitRepository artifact, unless --resolve-symlinks replaces\n" +
			"each with what it points to, which must be inside the directory.",
		Example: `  # Build the artifact of ./deploy into artifact.tgz
  flux build artifact --path ./deploy

  # Leave out the docs and every Markdown file, write to /tmp/deploy.tgz
  flux build artifact -p ./deploy -o /tmp/deploy.tgz --ignore-paths "docs/,*.md"`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return buildArtifact(f, o) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.path, "path", "p", "", "directory to build the artifact of (required)")
	fs.StringVarP(&o.output, "output", "o", "artifact.tgz", "file to write the artifact to")
	fs.StringSliceVar(&o.ignorePaths, "ignore-paths", nil, "paths to leave out, in .gitignore format, as a GitRepository's spec.ignore (comma-separated)")
	fs.BoolVar(&o.resolveSymlinks, "resolve-symlinks", false, "archive what symbolic links point to (inside --path) instead of leaving them out")
	return cmd
}

func buildArtifact(f *Factory, o *buildArtifactOptions) error {
	if o.path == "" {
		return errors.New("--path is required: the directory to build the artifact of")
	}
	if o.output == "" {
		return errors.New("--output must name a file")
	}
	dir, err := filepath.Abs(o.path)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return fmt.Errorf("--path %s: %w", o.path, err)
	}
	if info, err := os.Stat(dir); err != nil {
		return fmt.Errorf("--path %s: %w", o.path, err)
	} else if !info.IsDir() {
		return fmt.Errorf("--path %s is not a directory: build artifact archives a directory", o.path)
	}
	out, err := filepath.Abs(o.output)
	if err != nil {
		return fmt.Errorf("--output %s: %w", o.output, err)
	}
	outDir, err := filepath.EvalSymlinks(filepath.Dir(out))
	if err != nil {
		return fmt.Errorf("--output %s: the directory must exist: %w", o.output, err)
	}
	out = filepath.Join(outDir, filepath.Base(out))

	tmp, err := os.CreateTemp(outDir, "."+filepath.Base(out)+"-*")
	if err != nil {
		return fmt.Errorf("--output %s: %w", o.output, err)
	}
	defer os.Remove(tmp.Name())
	// The output may be inside the directory (-p . -o artifact.tgz): leave
	// it and the file being written out, or each build would differ.
	err = packDir(f, dir, packOptions{
		path: o.path, ignorePaths: o.ignorePaths, resolveSymlinks: o.resolveSymlinks,
		skip: []string{out, tmp.Name()},
	}, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("--output %s: %w", o.output, err)
	}
	fmt.Fprintf(f.Err, "✔ artifact created at %s\n", o.output)
	return nil
}

// excludeFiles is the ignore rules plus a few files left out by path.
type excludeFiles struct {
	*ignore.Rules
	files map[string]bool
}

func (e *excludeFiles) Match(path []string, isDir bool) bool {
	if !isDir && e.files[strings.Join(path, "/")] {
		return true
	}
	return e.Rules.Match(path, isDir)
}

// warnSymlinks says which symbolic links the artifact leaves out.
func warnSymlinks(f *Factory, dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			rel, _ := filepath.Rel(dir, p)
			fmt.Fprintf(f.Err, "◎ leaving out the symbolic link %s (--resolve-symlinks archives what it points to)\n", filepath.ToSlash(rel))
		}
		return nil
	})
}

// linkResolver copies a tree with each symbolic link replaced by a copy of
// what it points to, which must be inside root.
type linkResolver struct {
	root     string
	visiting map[string]bool // real directories being copied, against loops
}

// copyDir copies the real directory src to dst; rel is src's path in the
// tree, for messages.
func (r *linkResolver) copyDir(src, dst, rel string) error {
	if r.visiting[src] {
		return fmt.Errorf("--resolve-symlinks: %s leads back to %s, a symbolic link loop", rel, src)
	}
	r.visiting[src] = true
	defer delete(r.visiting, src)
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		p, q, sub := filepath.Join(src, name), filepath.Join(dst, name), filepath.Join(rel, name)
		if e.Type()&fs.ModeSymlink != 0 {
			if p, err = r.resolve(p, sub); err != nil {
				return err
			}
		}
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			err = r.copyDir(p, q, sub)
		case info.Mode().IsRegular():
			err = copyFile(p, q, info.Mode().Perm())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// resolve is where the link p points, refused unless inside root.
func (r *linkResolver) resolve(p, rel string) (string, error) {
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		link, _ := os.Readlink(p)
		return "", fmt.Errorf("--resolve-symlinks: the symbolic link %s points to %s, which does not exist", filepath.ToSlash(rel), link)
	}
	if in, err := filepath.Rel(r.root, target); err != nil || !filepath.IsLocal(in) && in != "." {
		return "", fmt.Errorf("--resolve-symlinks: the symbolic link %s points to %s, outside --path: refusing it", filepath.ToSlash(rel), target)
	}
	return target, nil
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm&0o755|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
