package cosigntest

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/engine/cosign"
)

// simpleSigningType is critical.type of a cosign payload.
const simpleSigningType = "cosign container image signature"

// LegacyPayload is the simple-signing payload cosign signs for an image
// in repo with the given digest, as cosign's payload package writes it
// (no optional claims: "optional": null).
func LegacyPayload(repo name.Repository, digest v1.Hash) ([]byte, error) {
	type critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	}
	var p struct {
		Critical critical          `json:"critical"`
		Optional map[string]string `json:"optional"`
	}
	p.Critical.Identity.DockerReference = repo.Name()
	p.Critical.Image.DockerManifestDigest = digest.String()
	p.Critical.Type = simpleSigningType
	return json.Marshal(p)
}

// SignLegacy signs digest in repo with priv in cosign's legacy format: a
// simple-signing payload layer appended to the image at the tag
// sha256-<hex>.sig (created if missing, as cosign does), its base64
// signature in the layer's dev.cosignproject.cosign/signature annotation.
// The signature is over the payload bytes: ECDSA over SHA-256 (cosign
// verify's default digest algorithm), RSA PKCS #1 v1.5 over SHA-256,
// Ed25519ph unless WithEd25519Prehash(false).
func SignLegacy(ctx context.Context, repo name.Repository, digest v1.Hash, priv crypto.Signer, opts ...Option) error {
	c := newConfig(ctx, opts)
	payload, err := LegacyPayload(repo, c.claimedDigest(digest))
	if err != nil {
		return err
	}
	pure := false
	if c.ed25519Pure != nil {
		pure = *c.ed25519Pure
	}
	if _, ok := priv.Public().(ed25519.PublicKey); !ok {
		pure = false
	}
	sig, err := sign(priv, payload, false, pure)
	if err != nil {
		return err
	}
	annotations := map[string]string{cosign.SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)}
	if len(c.certificate) > 0 {
		annotations[cosign.CertificateAnnotation] = string(c.certificate)
	}
	tag := repo.Tag(digest.Algorithm + "-" + digest.Hex + ".sig")
	base, err := signatureImage(tag, c.remote)
	if err != nil {
		return err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(payload, types.MediaType(cosign.SimpleSigningMediaType)),
		Annotations: annotations,
	})
	if err != nil {
		return err
	}
	if err := remote.Write(tag, img, c.remote...); err != nil {
		return fmt.Errorf("pushing %s: %w", tag, err)
	}
	return nil
}

// signatureImage is the existing signature image at tag, so that a new
// signature is added next to the others, or an empty OCI image.
func signatureImage(tag name.Tag, opts []remote.Option) (v1.Image, error) {
	img, err := remote.Image(tag, opts...)
	if err == nil {
		return img, nil
	}
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), nil
}
