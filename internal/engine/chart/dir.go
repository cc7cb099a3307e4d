package chart

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/ignore"
)

// dirReader reads a chart directory. Symbolic links are followed while
// they resolve inside the chart (as `helm package` follows them) and
// refused otherwise; every path is resolved before it is read.
type dirReader struct {
	root   string // the chart directory, symbolic links resolved
	limits Limits
	rules  *ignore.Rules
	files  []*archive.BufferedFile
	total  int64
}

// readDir reads the chart directory dir under limits.
func readDir(dir string, limits Limits) ([]*archive.BufferedFile, error) {
	root, err := realAbs(dir)
	if err != nil {
		return nil, fmt.Errorf("loading chart: %w", err)
	}
	d := &dirReader{root: root, limits: limits, rules: ignore.Empty()}
	if err := d.readIgnore(); err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	d.rules.AddDefaults()
	if err := d.walk("", root, []string{root}); err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	if _, err := checkNested(d.files, limits, limits.MaxSize-d.total); err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	return d.files, nil
}

// readIgnore parses the chart's .helmignore, when there is one.
func (d *dirReader) readIgnore() error {
	p, fi, err := d.resolve(ignore.HelmIgnore, filepath.Join(d.root, ignore.HelmIgnore))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", ignore.HelmIgnore)
	}
	data, err := d.read(ignore.HelmIgnore, p, fi)
	if err != nil {
		return err
	}
	rules, err := ignore.Parse(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("parsing %s: %w", ignore.HelmIgnore, err)
	}
	d.rules = rules
	return nil
}

// resolve resolves the file at real path p, named name in the chart: it
// returns the path with every symbolic link resolved and its information,
// or an IllegalPathError when it resolves outside the chart.
func (d *dirReader) resolve(name, p string) (string, os.FileInfo, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return "", nil, err
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return p, fi, nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", nil, fmt.Errorf("resolving symbolic link %s: %w", name, err)
	}
	if !within(d.root, real) {
		target, _ := os.Readlink(p)
		return "", nil, &IllegalPathError{Path: name, Reason: "is a symbolic link to " + target + ", outside the chart"}
	}
	fi, err = os.Stat(real)
	if err != nil {
		return "", nil, err
	}
	return real, fi, nil
}

// walk reads the directory at real path p, named name in the chart; stack
// holds the real directories being walked, to refuse link cycles.
func (d *dirReader) walk(name, p string, stack []string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if name != "" {
			n = name + "/" + n
		}
		real, fi, err := d.resolve(n, filepath.Join(p, e.Name()))
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if d.rules.Ignore(n, fi) {
				continue
			}
			if slices.Contains(stack, real) {
				return &IllegalPathError{Path: n, Reason: "is a symbolic link to a directory that contains it"}
			}
			if err := d.walk(n, real, append(stack, real)); err != nil {
				return err
			}
			continue
		}
		if d.rules.Ignore(n, fi) {
			continue
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", n)
		}
		data, err := d.read(n, real, fi)
		if err != nil {
			return err
		}
		d.files = append(d.files, &archive.BufferedFile{Name: n, ModTime: fi.ModTime(), Data: bytes.TrimPrefix(data, utf8BOM)})
	}
	return nil
}

// read reads the regular file at real path p, named name in the chart,
// within the limits.
func (d *dirReader) read(name, p string, fi os.FileInfo) ([]byte, error) {
	if fi.Size() > d.limits.MaxFileSize {
		return nil, fmt.Errorf("file %s of %d bytes is over the maximum chart file size of %d bytes", name, fi.Size(), d.limits.MaxFileSize)
	}
	if d.total+fi.Size() > d.limits.MaxSize {
		return nil, errOverSize(d.limits)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readLimited(f, d.limits.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	d.total += int64(len(data))
	if d.total > d.limits.MaxSize {
		return nil, errOverSize(d.limits)
	}
	return data, nil
}

// within reports whether the clean absolute path p is dir or beneath it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// realAbs returns the absolute path of p with every symbolic link resolved.
func realAbs(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}
