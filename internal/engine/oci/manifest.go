package oci

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MaxManifestSize bounds a manifest or index read from a registry.
const MaxManifestSize = 4 << 20

// manifestAccept lists the manifest and index media types read here.
var manifestAccept = strings.Join([]string{
	string(types.OCIManifestSchema1),
	string(types.OCIImageIndex),
	string(types.DockerManifestSchema2),
	string(types.DockerManifestList),
}, ",")

// rawManifest is a manifest or index as the registry sent it.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
	digest    v1.Hash
}

// head resolves ref (a tag or a digest) to the digest of its manifest with
// HEAD, and with GET when HEAD does not tell it.
func (s *session) head(ctx context.Context, ref string) (v1.Hash, error) {
	resp, err := s.do(ctx, http.MethodHead, s.url("manifests/"+ref), http.Header{"Accept": {manifestAccept}}, http.StatusOK)
	if err == nil {
		_ = resp.Body.Close()
		if h, perr := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); perr == nil {
			if refKind(ref) != "digest" || h.String() == ref {
				return h, nil
			}
		}
	} else if kind, _ := classify(err, 0); kind != ErrRegistry && kind != ErrNotFound {
		// 401, 403, TLS, unreachable: GET would not do better. A 404
		// is asked again with GET for the registry's explanation (no
		// such repository, or no such manifest).
		return v1.Hash{}, s.fail(refKind(ref), ref, err)
	}
	m, err := s.manifest(ctx, ref)
	if err != nil {
		return v1.Hash{}, err
	}
	return m.digest, nil
}

// manifest reads the manifest or index of ref, at most MaxManifestSize
// bytes, and checks it has the digest when ref is one.
func (s *session) manifest(ctx context.Context, ref string) (*rawManifest, error) {
	kind := refKind(ref)
	resp, err := s.do(ctx, http.MethodGet, s.url("manifests/"+ref), http.Header{"Accept": {manifestAccept}}, http.StatusOK)
	if err != nil {
		return nil, s.fail(kind, ref, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > MaxManifestSize {
		return nil, s.tooLargeManifest(kind, ref, resp.ContentLength)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxManifestSize+1))
	if err != nil {
		return nil, s.fail(kind, ref, err)
	}
	if len(raw) > MaxManifestSize {
		return nil, s.tooLargeManifest(kind, ref, -1)
	}
	algo := "sha256"
	if kind == "digest" {
		algo, _, _ = strings.Cut(ref, ":")
	}
	dgst, err := hashOf(algo, raw)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidSelector, Repository: s.repo, RefKind: kind, Ref: ref, Err: err}
	}
	if kind == "digest" && dgst.String() != ref {
		return nil, &Error{Kind: ErrDigestMismatch, Repository: s.repo, RefKind: kind, Ref: ref,
			Detail: fmt.Sprintf("the registry sent a manifest with digest %s", dgst)}
	}
	mt := types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
	if !knownManifest(mt) {
		// Some registries answer a generic type; the manifest says its own.
		var probe struct {
			MediaType types.MediaType `json:"mediaType"`
		}
		if json.Unmarshal(raw, &probe) == nil && knownManifest(probe.MediaType) {
			mt = probe.MediaType
		}
	}
	return &rawManifest{raw: raw, mediaType: mt, digest: dgst}, nil
}

func (s *session) tooLargeManifest(kind, ref string, size int64) error {
	detail := fmt.Sprintf("the manifest is over the maximum of %d bytes", MaxManifestSize)
	if size > 0 {
		detail = fmt.Sprintf("the manifest is %d bytes, over the maximum of %d bytes", size, MaxManifestSize)
	}
	return &Error{Kind: ErrTooLarge, Repository: s.repo, RefKind: kind, Ref: ref, Detail: detail}
}

func hashOf(algo string, raw []byte) (v1.Hash, error) {
	h, err := v1.Hasher(algo)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("unsupported digest algorithm %q", algo)
	}
	h.Write(raw)
	return v1.Hash{Algorithm: algo, Hex: hex.EncodeToString(h.Sum(nil))}, nil
}

func knownManifest(mt types.MediaType) bool {
	switch mt {
	case types.OCIManifestSchema1, types.DockerManifestSchema2, types.OCIImageIndex, types.DockerManifestList:
		return true
	}
	return false
}

// image reads the image manifest of digest; an index is read through its
// linux/amd64 manifest, as Flux does. It returns the manifest and the
// digest of the image manifest read.
func (s *session) image(ctx context.Context, digest string) (*v1.Manifest, v1.Hash, error) {
	m, err := s.manifest(ctx, digest)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if m.mediaType.IsIndex() {
		child, err := s.platformManifest(digest, m.raw)
		if err != nil {
			return nil, v1.Hash{}, err
		}
		if m, err = s.manifest(ctx, child.String()); err != nil {
			return nil, v1.Hash{}, err
		}
		if m.mediaType.IsIndex() {
			return nil, v1.Hash{}, &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "digest", Ref: digest,
				Detail: "the linux/amd64 entry of the index is another index"}
		}
	}
	if !m.mediaType.IsImage() {
		return nil, v1.Hash{}, &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "digest", Ref: digest,
			Detail: fmt.Sprintf("media type %q is not an OCI or Docker image manifest", m.mediaType)}
	}
	man, err := v1.ParseManifest(bytes.NewReader(m.raw))
	if err != nil {
		return nil, v1.Hash{}, &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "digest", Ref: digest,
			Detail: "the manifest is not valid JSON", Err: err}
	}
	return man, m.digest, nil
}

// platformManifest picks the linux/amd64 manifest of an index.
func (s *session) platformManifest(digest string, raw []byte) (v1.Hash, error) {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "digest", Ref: digest,
			Detail: "the image index is not valid JSON", Err: err}
	}
	var seen []string
	for _, d := range idx.Manifests {
		if d.Platform == nil {
			continue
		}
		if d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
			return d.Digest, nil
		}
		seen = append(seen, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	return v1.Hash{}, &Error{Kind: ErrInvalidArtifact, Repository: s.repo, RefKind: "digest", Ref: digest,
		Detail: fmt.Sprintf("the image index has no linux/amd64 manifest (platforms: %s)", orNone(seen))}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
