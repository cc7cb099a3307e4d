package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The Flux artifact format, as `flux push artifact` writes it.
const (
	// ConfigMediaType is the media type of a Flux artifact's config.
	ConfigMediaType = "application/vnd.cncf.flux.config.v1+json"
	// ContentMediaType is the media type of its one layer, a gzip tarball.
	ContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
	// AnnotationSource, AnnotationRevision and AnnotationCreated annotate
	// the manifest with where the content came from and when.
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationCreated  = "org.opencontainers.image.created"
)

// ReproducibleCreated is the created time of a reproducible push
// (`flux push artifact --reproducible`).
var ReproducibleCreated = time.Unix(0, 0).UTC()

// PushOptions describe the artifact Push writes.
type PushOptions struct {
	// Source and Revision annotate where the content came from ("" leaves
	// the annotation out).
	Source, Revision string
	// Annotations are added to the manifest's; they win over the three
	// standard ones.
	Annotations map[string]string
	// Created is the created annotation; zero means now.
	Created time.Time
	// Reproducible sets Created to ReproducibleCreated, so pushing the
	// same content twice gives one digest.
	Reproducible bool
}

// Push writes layer (a gzip-compressed tarball, such as `flux build
// artifact` makes) to repo as a Flux artifact tagged tag, and returns the
// manifest digest.
func (c *Client) Push(ctx context.Context, repo Repository, tag string, layer []byte, opts PushOptions) (string, error) {
	ref, err := c.tagReference(repo, tag)
	if err != nil {
		return "", err
	}
	if len(layer) < 2 || layer[0] != 0x1f || layer[1] != 0x8b {
		return "", &Error{Kind: ErrInvalidArtifact, Repository: repo, RefKind: "tag", Ref: tag,
			Detail: "the content to push is not a gzip-compressed tarball"}
	}
	img, err := fluxImage(layer, opts)
	if err != nil {
		return "", &Error{Kind: ErrInvalidArtifact, Repository: repo, RefKind: "tag", Ref: tag, Err: err}
	}
	digest, err := img.Digest()
	if err != nil {
		return "", &Error{Kind: ErrInvalidArtifact, Repository: repo, RefKind: "tag", Ref: tag, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if err := remote.Write(ref, img, c.RemoteOptions(ctx)...); err != nil {
		return "", c.writeError(repo, tag, err)
	}
	return digest.String(), nil
}

// fluxImage builds the artifact: an OCI manifest, Flux's config media
// type, one layer, the annotations.
func fluxImage(layer []byte, opts PushOptions) (v1.Image, error) {
	created := opts.Created
	if opts.Reproducible {
		created = ReproducibleCreated
	} else if created.IsZero() {
		created = time.Now()
	}
	ann := map[string]string{AnnotationCreated: created.UTC().Format(time.RFC3339)}
	if opts.Source != "" {
		ann[AnnotationSource] = opts.Source
	}
	if opts.Revision != "" {
		ann[AnnotationRevision] = opts.Revision
	}
	maps.Copy(ann, opts.Annotations)

	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layer)), nil
	}, tarball.WithMediaType(ContentMediaType))
	if err != nil {
		return nil, fmt.Errorf("reading the layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, ConfigMediaType)
	if img, err = mutate.Append(img, mutate.Addendum{Layer: l}); err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	return mutate.Annotations(img, ann).(v1.Image), nil
}

// tagReference checks tag and names it in repo.
func (c *Client) tagReference(repo Repository, tag string) (name.Tag, error) {
	if !validTag(tag) {
		return name.Tag{}, &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "tag", Ref: tag,
			Detail: "not a valid tag (" + tagRule + ")"}
	}
	ref, err := name.NewTag(repo.Registry+"/"+repo.Path+":"+tag, c.NameOptions()...)
	if err != nil {
		return name.Tag{}, &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "tag", Ref: tag, Err: err}
	}
	return ref, nil
}

// writeError explains an error of go-containerregistry's remote package.
func (c *Client) writeError(repo Repository, tag string, err error) error {
	kind, detail := classify(err, c.opts.Timeout)
	e := &Error{Kind: kind, Repository: repo, RefKind: "tag", Ref: tag, Detail: detail, Err: err}
	if kind == ErrUnauthorized || kind == ErrForbidden {
		ref, _ := repo.nameRepository(c.opts.Insecure)
		_, has, _ := c.authenticator(ref)
		e.CredentialsSent, e.Detail = has, credentialsDetail(repo.Registry, has, kind)
	}
	return e
}

// Tag tags the manifest digest in repo with tag, without downloading
// anything but the manifest.
func (c *Client) Tag(ctx context.Context, repo Repository, digest, tag string) error {
	if _, err := c.tagReference(repo, tag); err != nil {
		return err
	}
	if _, err := v1.NewHash(digest); err != nil {
		return &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: "digest", Ref: digest, Err: errors.New("want <algorithm>:<hex>")}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	s, err := c.open(ctx, repo, true, "tag", tag)
	if err != nil {
		return err
	}
	m, err := s.manifest(ctx, digest)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.url("manifests/"+tag), bytes.NewReader(m.raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", string(m.mediaType))
	resp, err := s.http.Do(req)
	if err == nil {
		err = transport.CheckError(resp, http.StatusCreated, http.StatusOK, http.StatusAccepted)
		_ = resp.Body.Close()
	}
	if err != nil {
		return s.fail("tag", tag, err)
	}
	return nil
}
