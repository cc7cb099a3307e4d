package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	helmchart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"sigs.k8s.io/yaml"
)

const (
	// DefaultMaxSize is the default of Limits.MaxSize, as Flux's
	// --helm-chart-max-size.
	DefaultMaxSize int64 = 10 << 20
	// DefaultMaxFileSize is the default of Limits.MaxFileSize, as Flux's
	// --helm-chart-file-max-size.
	DefaultMaxFileSize int64 = 5 << 20
)

// Limits bounds what Load accepts. A zero field takes its default.
type Limits struct {
	// MaxSize bounds both the size of a chart archive and the sum of the
	// sizes of the chart's files once decompressed, vendored subcharts
	// included (--helm-chart-max-size).
	MaxSize int64
	// MaxFileSize bounds the size of each file of the chart
	// (--helm-chart-file-max-size), values files included.
	MaxFileSize int64
}

// withDefaults returns l with its zero fields set to their defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	return l
}

// Chart is a loaded chart: the SDK's chart, where it was loaded from and the
// limits it was loaded under, which its dependencies are loaded under too.
type Chart struct {
	sdk    *helmchart.Chart
	path   string
	dir    string
	limits Limits
}

// Name returns the chart's name from its Chart.yaml.
func (c *Chart) Name() string { return c.sdk.Name() }

// Version returns the chart's version from its Chart.yaml.
func (c *Chart) Version() string { return c.sdk.Metadata.Version }

// Path returns the archive file or directory the chart was loaded from.
func (c *Chart) Path() string { return c.path }

// SDK returns Helm's chart, for rendering or inspection. Package writes
// what it holds then (metadata, templates, files, dependencies), but its
// values only from its values.yaml file or Package's argument.
func (c *Chart) SDK() *helmchart.Chart { return c.sdk }

// Load loads the chart at path: a gzip-compressed tar archive (as `helm
// package` writes it, every entry under one top directory) or a directory
// (honouring its .helmignore, as `helm package` does). It refuses an archive
// or a content over limits, archive entries that are absolute, escape the
// chart or are links, symbolic links in a directory that resolve outside
// it, and a missing or invalid Chart.yaml; every error names the offending
// file.
func Load(path string, limits Limits) (*Chart, error) {
	limits = limits.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart: %w", err)
	}
	var files []*archive.BufferedFile
	dir := path
	if fi.IsDir() {
		files, err = readDir(path, limits)
	} else {
		dir = filepath.Dir(path)
		files, err = readArchiveFile(path, fi, limits)
	}
	if err != nil {
		return nil, err
	}
	sdk, err := loadFiles(path, files)
	if err != nil {
		return nil, err
	}
	return &Chart{sdk: sdk, path: path, dir: dir, limits: limits}, nil
}

// readArchiveFile reads the chart archive at path, whose information is fi.
func readArchiveFile(path string, fi os.FileInfo, limits Limits) ([]*archive.BufferedFile, error) {
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("loading chart %s: not a regular file", path)
	}
	if fi.Size() > limits.MaxSize {
		return nil, fmt.Errorf("loading chart %s: archive of %d bytes is over the maximum chart size of %d bytes",
			path, fi.Size(), limits.MaxSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart: %w", err)
	}
	files, _, err := readArchive(bytes.NewReader(data), limits, limits.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", path, err)
	}
	return files, nil
}

// LoadArchive loads a chart from the archive in data, as Load does for a
// file; name says where data came from in errors (a URL, a dependency).
// Dependencies of the result resolve file:// paths against dir.
func LoadArchive(name string, data []byte, dir string, limits Limits) (*Chart, error) {
	limits = limits.withDefaults()
	if int64(len(data)) > limits.MaxSize {
		return nil, fmt.Errorf("loading chart %s: archive of %d bytes is over the maximum chart size of %d bytes",
			name, len(data), limits.MaxSize)
	}
	files, _, err := readArchive(bytes.NewReader(data), limits, limits.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", name, err)
	}
	sdk, err := loadFiles(name, files)
	if err != nil {
		return nil, err
	}
	return &Chart{sdk: sdk, path: name, dir: dir, limits: limits}, nil
}

// loadFiles checks Chart.yaml, so that its errors name it, then hands files
// to the SDK's loader.
func loadFiles(path string, files []*archive.BufferedFile) (*helmchart.Chart, error) {
	var chartYAML []byte
	for _, f := range files {
		if f.Name == "Chart.yaml" {
			chartYAML = f.Data
		}
	}
	if chartYAML == nil {
		return nil, fmt.Errorf("loading chart %s: Chart.yaml not found", path)
	}
	md := new(helmchart.Metadata)
	if err := yaml.Unmarshal(chartYAML, md); err != nil {
		return nil, fmt.Errorf("loading chart %s: invalid Chart.yaml: %w", path, err)
	}
	if md.APIVersion == "" {
		md.APIVersion = helmchart.APIVersionV1 // as the SDK's loader assumes
	}
	if err := md.Validate(); err != nil {
		return nil, fmt.Errorf("loading chart %s: invalid Chart.yaml: %w", path, err)
	}
	sdk, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", path, err)
	}
	return sdk, nil
}

// checkNested reads every vendored subchart archive (charts/<x>.tgz) among
// files, as the SDK's loader will, so that a small archive cannot expand
// beyond the limits once loaded; it returns the budget left.
func checkNested(files []*archive.BufferedFile, limits Limits, budget int64) (int64, error) {
	for _, f := range files {
		rest, ok := strings.CutPrefix(f.Name, "charts/")
		if !ok || strings.Contains(rest, "/") || filepath.Ext(rest) != ".tgz" || strings.IndexAny(rest, "_.") == 0 {
			continue
		}
		_, used, err := readArchive(bytes.NewReader(f.Data), limits, budget)
		if err != nil {
			return 0, fmt.Errorf("subchart %s: %w", f.Name, err)
		}
		budget -= used
	}
	return budget, nil
}

// errOverSize is the error for content beyond the chart's size limit.
func errOverSize(limits Limits) error {
	return fmt.Errorf("chart content is over the maximum chart size of %d bytes", limits.MaxSize)
}

// readLimited reads r, failing when it holds more than max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errors.New("over the limit")
	}
	return data, nil
}
