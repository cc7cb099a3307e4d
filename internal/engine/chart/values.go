package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// IllegalPathError says that a path given by the user or found in a chart
// leads outside what it must stay in (the source artifact, the chart); the
// controller stalls on it with reason IllegalPath.
type IllegalPathError struct {
	// Path is the path as given or found.
	Path string
	// Reason says where it leads.
	Reason string
}

// Error names the path and the reason.
func (e *IllegalPathError) Error() string {
	return fmt.Sprintf("illegal path '%s': %s", e.Path, e.Reason)
}

// MergeValues merges the values files named by files, in order, the later
// winning, as the chart's new values: the chart's own values.yaml takes part
// only when listed, as in Flux. With root set, each name is a path in the
// directory root (a source artifact; a leading "/" is relative to root too);
// with root empty, it is a file of the chart (a chart pulled from a
// repository). A name leading outside root or the chart, through ".." or a
// symbolic link, fails with an *IllegalPathError; a missing file fails with
// an error matching fs.ErrNotExist unless ignoreMissing, which leaves it out
// of found. found lists, in order, the names that took part. values is nil
// when none did: the chart's values are then left as they are.
func MergeValues(root string, c *Chart, files []string, ignoreMissing bool) (values map[string]any, found []string, err error) {
	for _, name := range files {
		data, err := readValuesFile(root, c, name)
		if errors.Is(err, fs.ErrNotExist) && ignoreMissing {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		v, err := loader.LoadValues(bytes.NewReader(data))
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s': %w", name, err)
		}
		values = loader.MergeMaps(values, v)
		found = append(found, name)
	}
	return values, found, nil
}

// readValuesFile reads the values file name from root, or from the chart
// when root is empty, within the chart's file size limit.
func readValuesFile(root string, c *Chart, name string) ([]byte, error) {
	rel := path.Clean("/" + filepath.ToSlash(name))[1:]
	if rel == "" || escapes(name) {
		return nil, &IllegalPathError{Path: name, Reason: "leaves the " + where(root)}
	}
	if root == "" {
		for _, f := range c.sdk.Raw {
			if f.Name == rel {
				if int64(len(f.Data)) > c.limits.MaxFileSize {
					return nil, fmt.Errorf("values file '%s' of %d bytes is over the maximum file size of %d bytes", name, len(f.Data), c.limits.MaxFileSize)
				}
				return f.Data, nil
			}
		}
		return nil, fmt.Errorf("values file '%s' not found in chart '%s': %w", name, c.Name(), fs.ErrNotExist)
	}
	realRoot, err := realAbs(root)
	if err != nil {
		return nil, fmt.Errorf("values file '%s': %w", name, err)
	}
	p, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("values file '%s' not found in source: %w", name, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("values file '%s': %w", name, err)
	}
	if !within(realRoot, p) {
		return nil, &IllegalPathError{Path: name, Reason: "is a symbolic link out of the source"}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("values file '%s': %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("values file '%s' is not a regular file", name)
	}
	if fi.Size() > c.limits.MaxFileSize {
		return nil, fmt.Errorf("values file '%s' of %d bytes is over the maximum file size of %d bytes", name, fi.Size(), c.limits.MaxFileSize)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("values file '%s': %w", name, err)
	}
	defer f.Close()
	data, err := readLimited(f, c.limits.MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("values file '%s': %w", name, err)
	}
	return data, nil
}

// escapes reports whether the slash or OS path name, read relative to a
// directory, climbs above it at some point.
func escapes(name string) bool {
	depth := 0
	for _, part := range strings.Split(filepath.ToSlash(name), "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// where names what a values file must stay in.
func where(root string) string {
	if root == "" {
		return "chart"
	}
	return "source"
}
