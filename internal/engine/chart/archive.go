package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
)

// utf8BOM is trimmed from every file, as the SDK's loaders do.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// errStream marks a decompressed stream beyond its bound.
var errStream = errors.New("decompressed archive is over its size bound")

// streamReader fails with errStream once more than max bytes were read. It
// bounds tar headers and padding, which the file sizes do not count.
type streamReader struct {
	r    io.Reader
	max  int64
	read int64
}

func (s *streamReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.read += int64(n)
	if s.read > s.max {
		return n, errStream
	}
	return n, err
}

// readArchive reads a chart archive from r: every regular file, named
// relative to the archive's top directory, the sum of their sizes within
// budget and each within limits.MaxFileSize. Vendored subchart archives are
// read as well, within what is left of budget. It returns the files and the
// bytes they take, subcharts included. Links, devices, absolute names and
// names leaving the chart are refused, naming the entry.
func readArchive(r io.Reader, limits Limits, budget int64) ([]*archive.BufferedFile, int64, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, 0, fmt.Errorf("not a gzip-compressed archive: %w", err)
	}
	defer gz.Close()
	// Headers take 512 bytes each and at most 511 bytes of padding follow a
	// file: twice the budget and a margin bound any honest archive.
	tr := tar.NewReader(&streamReader{r: gz, max: 2*budget + 1<<20})
	var files []*archive.BufferedFile
	seen := map[string]bool{}
	left := budget
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errStream) {
			return nil, 0, errOverSize(limits)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading archive: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return nil, 0, &IllegalPathError{Path: h.Name, Reason: "is a link to " + h.Linkname + "; a chart archive holds regular files only"}
		default:
			return nil, 0, fmt.Errorf("archive entry %s is not a regular file", h.Name)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return nil, 0, err
		}
		if seen[name] {
			return nil, 0, fmt.Errorf("archive entry %s appears twice", h.Name)
		}
		seen[name] = true
		if h.Size > limits.MaxFileSize {
			return nil, 0, fmt.Errorf("file %s of %d bytes is over the maximum chart file size of %d bytes", name, h.Size, limits.MaxFileSize)
		}
		if h.Size > left {
			return nil, 0, errOverSize(limits)
		}
		data, err := readLimited(tr, h.Size)
		if errors.Is(err, errStream) {
			return nil, 0, errOverSize(limits)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading archive entry %s: %w", h.Name, err)
		}
		left -= int64(len(data))
		files = append(files, &archive.BufferedFile{Name: name, ModTime: h.ModTime, Data: bytes.TrimPrefix(data, utf8BOM)})
	}
	if len(files) == 0 {
		return nil, 0, errors.New("no files in chart archive")
	}
	left, err = checkNested(files, limits, left)
	if err != nil {
		return nil, 0, err
	}
	return files, budget - left, nil
}

// entryName returns the chart-relative name of the archive entry name: the
// name without its top directory, refusing what would land outside the
// chart.
func entryName(name string) (string, error) {
	if strings.Contains(name, `\`) {
		return "", &IllegalPathError{Path: name, Reason: "contains a backslash"}
	}
	if path.IsAbs(name) {
		return "", &IllegalPathError{Path: name, Reason: "is an absolute path"}
	}
	top, rest, ok := strings.Cut(path.Clean(name), "/")
	if !ok || top == ".." {
		if name == "Chart.yaml" {
			return "", &IllegalPathError{Path: name, Reason: "is not under the archive's top directory"}
		}
		return "", &IllegalPathError{Path: name, Reason: "is outside the archive's top directory"}
	}
	rest = path.Clean(rest)
	if rest == "." || rest == ".." || strings.HasPrefix(rest, "../") {
		return "", &IllegalPathError{Path: name, Reason: "leaves the chart"}
	}
	return rest, nil
}
