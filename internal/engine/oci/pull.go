package oci

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/driftless/driftless/internal/engine/artifact"
)

// Layer operations of an OCIRepository's spec.layerSelector.operation.
const (
	// OperationExtract unpacks the layer, a gzip-compressed tarball.
	OperationExtract = "extract"
	// OperationCopy stores the layer as it is.
	OperationCopy = "copy"
)

// Default bounds of Pull.
const (
	// DefaultMaxSize bounds the layer when PullOptions.MaxSize is zero.
	DefaultMaxSize int64 = 100 << 20
	// DefaultMaxFiles bounds the entries extracted when
	// PullOptions.MaxFiles is zero.
	DefaultMaxFiles = 100_000
	// extractFactor: what a layer may expand to when
	// PullOptions.MaxExtractSize is zero, as a multiple of MaxSize.
	extractFactor = 10
)

// PullOptions say which layer Pull reads and what it does with it.
type PullOptions struct {
	// MediaType selects the first layer of this media type; "" selects
	// the first layer (spec.layerSelector.mediaType).
	MediaType string
	// Operation is OperationExtract (the default) or OperationCopy.
	Operation string
	// MaxSize bounds the layer's size, checked against the manifest
	// before the download and enforced on the stream (default
	// DefaultMaxSize).
	MaxSize int64
	// MaxExtractSize bounds what the layer expands to under extract
	// (default ten times MaxSize), against gzip bombs.
	MaxExtractSize int64
	// MaxFiles bounds the entries extracted (default DefaultMaxFiles).
	MaxFiles int
	// Dir receives the extracted files (created when missing). The layer
	// is downloaded to a temporary file beside it first.
	Dir string
	// File receives the layer under copy; it is written beside and
	// renamed into place once the digest is verified.
	File string
}

// Pulled describes what Pull read.
type Pulled struct {
	// Digest is the digest pulled (the index digest for an index).
	Digest string
	// ManifestDigest is the image manifest read: Digest, or the
	// linux/amd64 manifest of an index.
	ManifestDigest string
	// ConfigMediaType is the media type of the manifest's config
	// (ConfigMediaType for a Flux artifact).
	ConfigMediaType string
	// LayerDigest, MediaType and Size describe the layer read.
	LayerDigest string
	MediaType   string
	Size        int64
	// Annotations are the manifest's annotations (the artifact metadata).
	Annotations map[string]string
}

// Pull reads one layer of the manifest digest in repo: the first one, or
// the first of opts.MediaType. The layer's size is checked before it is
// downloaded, the download is bounded and its digest verified before
// anything is extracted or copied. Extraction is Flux's: regular files and
// directories only, symbolic links dropped, hard links, devices, absolute
// names and names escaping Dir refused, size and entry count bounded.
func (c *Client) Pull(ctx context.Context, repo Repository, digest string, opts PullOptions) (*Pulled, error) {
	if err := checkPullOptions(repo, digest, &opts); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	s, err := c.open(ctx, repo, false, "digest", digest)
	if err != nil {
		return nil, err
	}
	man, manDigest, err := s.image(ctx, digest)
	if err != nil {
		return nil, err
	}
	layer, err := selectLayer(repo, digest, man, opts.MediaType)
	if err != nil {
		return nil, err
	}
	out := &Pulled{
		Digest:          digest,
		ManifestDigest:  manDigest.String(),
		ConfigMediaType: string(man.Config.MediaType),
		LayerDigest:     layer.Digest.String(),
		MediaType:       string(layer.MediaType),
		Size:            layer.Size,
		Annotations:     maps.Clone(man.Annotations),
	}
	if layer.Size > opts.MaxSize || layer.Size < 0 {
		return nil, &Error{Kind: ErrTooLarge, Repository: repo, RefKind: "layer", Ref: out.LayerDigest,
			Detail: fmt.Sprintf("the layer is %d bytes, over the maximum of %d bytes", layer.Size, opts.MaxSize)}
	}
	if opts.Operation == OperationCopy {
		err = s.copyLayer(ctx, layer, opts.File)
	} else {
		err = s.extractLayer(ctx, layer, opts)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkPullOptions(repo Repository, digest string, opts *PullOptions) error {
	if _, err := v1.NewHash(digest); err != nil {
		return &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "digest", Ref: digest,
			Err: errors.New("want <algorithm>:<hex>")}
	}
	switch opts.Operation {
	case "":
		opts.Operation = OperationExtract
	case OperationExtract, OperationCopy:
	default:
		return &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "layer operation", Ref: opts.Operation,
			Detail: fmt.Sprintf("want %s or %s", OperationExtract, OperationCopy)}
	}
	if opts.Operation == OperationExtract && opts.Dir == "" {
		return errors.New("oci: PullOptions.Dir is required to extract")
	}
	if opts.Operation == OperationCopy && opts.File == "" {
		return errors.New("oci: PullOptions.File is required to copy")
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.MaxExtractSize <= 0 {
		opts.MaxExtractSize = extractFactor * opts.MaxSize
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	return nil
}

// selectLayer returns the first layer, or the first of mediaType.
func selectLayer(repo Repository, digest string, man *v1.Manifest, mediaType string) (v1.Descriptor, error) {
	var present []string
	for _, l := range man.Layers {
		if mediaType == "" || string(l.MediaType) == mediaType {
			return l, nil
		}
		present = append(present, string(l.MediaType))
	}
	e := &Error{Kind: ErrLayerNotFound, Repository: repo, RefKind: "digest", Ref: digest}
	if mediaType == "" {
		e.Detail = "the manifest has no layers"
	} else {
		e.Detail = fmt.Sprintf("no layer of media type %q; the layers are: %s", mediaType, orNone(present))
	}
	return v1.Descriptor{}, e
}

// copyLayer writes the verified layer to file.
func (s *session) copyLayer(ctx context.Context, layer v1.Descriptor, file string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+"-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := s.blob(ctx, layer, tmp); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// extractLayer downloads the layer beside opts.Dir, verifies it and
// unpacks it into opts.Dir.
func (s *session) extractLayer(ctx context.Context, layer v1.Descriptor, opts PullOptions) error {
	parent := filepath.Dir(filepath.Clean(opts.Dir))
	tmp, err := os.CreateTemp(parent, ".layer-*")
	if err != nil {
		return err
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	if err := s.blob(ctx, layer, tmp); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	invalid := func(detail string, err error) error {
		return &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "layer", Ref: layer.Digest.String(), Detail: detail, Err: err}
	}
	r := bufio.NewReader(tmp)
	if magic, _ := r.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return invalid(fmt.Sprintf("the layer (media type %q) is not a gzip-compressed tarball, which operation %s needs; use operation %s to store it as it is",
			layer.MediaType, OperationExtract, OperationCopy), nil)
	}
	err = artifact.Untar(r, opts.Dir, artifact.UntarOptions{
		MaxSize:      opts.MaxExtractSize,
		MaxFiles:     opts.MaxFiles,
		SkipSymlinks: true,
	})
	if err != nil {
		return invalid("extracting the layer", err)
	}
	return nil
}
