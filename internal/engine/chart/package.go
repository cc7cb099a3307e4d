package chart

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	helmchart "helm.sh/helm/v4/pkg/chart/v2"
	"sigs.k8s.io/yaml"
)

// packageTime is the modification time of every entry Package writes, so
// that one chart always packages to the same bytes (the 1980 epoch of zip,
// which every tar reader takes).
var packageTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// entry is one file of a chart archive.
type entry struct {
	name string
	data []byte
}

// Package writes c into dir as <name>-<version>.tgz, as `helm package`
// lays it out (everything under the directory <name>/, dependencies as
// directories under charts/), and returns the file's path. With values
// non-nil, they replace the chart's values.yaml. The archive is
// reproducible: entries sorted by name, fixed times, modes and owners, no
// gzip time or name, so one chart packages to the same bytes every time.
// The file is written atomically; dir is created when missing.
func Package(c *Chart, values map[string]any, dir string) (string, error) {
	if err := c.sdk.Validate(); err != nil {
		return "", fmt.Errorf("packaging chart '%s': %w", c.Name(), err)
	}
	var entries []entry
	if err := collect(&entries, c.sdk, "", values); err != nil {
		return "", fmt.Errorf("packaging chart '%s': %w", c.Name(), err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	target := filepath.Join(dir, fmt.Sprintf("%s-%s.tgz", c.Name(), c.Version()))
	tmp, err := os.CreateTemp(dir, ".package-*.tgz")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := writeTarGz(tmp, entries); err != nil {
		tmp.Close()
		return "", fmt.Errorf("packaging chart '%s': %w", c.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return "", err
	}
	return target, nil
}

// collect appends the files of ch under prefix, then of its dependencies;
// values, when not nil, replace ch's values.yaml.
func collect(entries *[]entry, ch *helmchart.Chart, prefix string, values map[string]any) error {
	name := ch.Name()
	if name == "" || name != path.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("invalid chart name '%s'", name)
	}
	base := path.Join(prefix, name)
	add := func(n string, data []byte) { *entries = append(*entries, entry{path.Join(base, n), data}) }

	md := *ch.Metadata
	if md.APIVersion == helmchart.APIVersionV1 {
		md.Dependencies = nil // v1 charts keep them in requirements.yaml
	}
	data, err := yaml.Marshal(&md)
	if err != nil {
		return err
	}
	add("Chart.yaml", data)
	if ch.Metadata.APIVersion == helmchart.APIVersionV2 && ch.Lock != nil {
		if data, err = yaml.Marshal(ch.Lock); err != nil {
			return err
		}
		add("Chart.lock", data)
	}
	switch {
	case values != nil:
		if data, err = yaml.Marshal(values); err != nil {
			return fmt.Errorf("encoding values: %w", err)
		}
		add("values.yaml", data)
	default:
		for _, f := range ch.Raw {
			if f.Name == "values.yaml" {
				add("values.yaml", f.Data)
			}
		}
	}
	if ch.Schema != nil {
		if !json.Valid(ch.Schema) {
			return errors.New("values.schema.json is not valid JSON")
		}
		add("values.schema.json", ch.Schema)
	}
	for _, f := range ch.Templates {
		add(f.Name, f.Data)
	}
	for _, f := range ch.Files {
		add(f.Name, f.Data)
	}
	for _, dep := range ch.Dependencies() {
		if err := collect(entries, dep, path.Join(base, "charts"), nil); err != nil {
			return fmt.Errorf("dependency '%s': %w", dep.Name(), err)
		}
	}
	return nil
}

// writeTarGz writes entries, in order, as a reproducible gzip-compressed
// tar stream to f.
func writeTarGz(f *os.File, entries []entry) error {
	gz := gzip.NewWriter(f) // no Name, no ModTime: a fixed header
	tw := tar.NewWriter(gz)
	for i, e := range entries {
		if i > 0 && entries[i-1].name == e.name {
			return fmt.Errorf("file %s appears twice", e.name)
		}
		h := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Mode:     0o644,
			Size:     int64(len(e.data)),
			ModTime:  packageTime,
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
