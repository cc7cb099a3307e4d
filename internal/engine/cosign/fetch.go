package cosign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifest is the part of an OCI image manifest this package reads,
// including the OCI 1.1 artifactType that v1.Manifest lacks.
type manifest struct {
	MediaType    types.MediaType   `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       v1.Descriptor     `json:"config"`
	Layers       []v1.Descriptor   `json:"layers"`
	Subject      *v1.Descriptor    `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

// getManifest fetches the manifest ref points to, bounded in size.
func (v *verifier) getManifest(ref name.Reference) (*manifest, types.MediaType, error) {
	desc, err := remote.Get(ref, v.opts...)
	if err != nil {
		return nil, "", err
	}
	if len(desc.Manifest) > maxManifestBytes {
		return nil, "", contentErrorf("manifest %s is %d bytes, over the %d byte limit", ref, len(desc.Manifest), maxManifestBytes)
	}
	var m manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, "", contentErrorf("manifest %s: %v", ref, err)
	}
	return &m, desc.MediaType, nil
}

// getBlob fetches the blob desc describes, refusing one over maxBlobBytes
// before the download, and checks its digest.
func (v *verifier) getBlob(desc v1.Descriptor) ([]byte, error) {
	if desc.Size > maxBlobBytes {
		return nil, contentErrorf("blob %s is %d bytes, over the %d byte limit", desc.Digest, desc.Size, maxBlobBytes)
	}
	if desc.Digest.Algorithm != "sha256" {
		return nil, contentErrorf("blob %s: only sha256 digests are read", desc.Digest)
	}
	layer, err := remote.Layer(v.repo.Digest(desc.Digest.String()), v.opts...)
	if err != nil {
		return nil, err
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxBlobBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBlobBytes {
		return nil, contentErrorf("blob %s is over the %d byte limit", desc.Digest, maxBlobBytes)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != desc.Digest.Hex {
		return nil, contentErrorf("blob %s: content does not match its digest", desc.Digest)
	}
	return b, nil
}

// contentError is a problem with what the registry served (too big, not
// JSON, a digest mismatch), as opposed to a failure to reach it.
type contentError struct{ msg string }

func (e *contentError) Error() string { return e.msg }

func contentErrorf(format string, args ...any) error {
	return &contentError{msg: fmt.Sprintf(format, args...)}
}

// isNotFound reports whether the registry answered 404.
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// isTransient reports whether err is the registry's or the network's
// rather than the content's: the answer may differ on the next try. A 404
// for something a signature references counts as content: it is broken.
func isTransient(err error) bool {
	var cerr *contentError
	return !errors.As(err, &cerr) && !isNotFound(err)
}
