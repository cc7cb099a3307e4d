package cosigntest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/engine/cosign"
)

// Annotations cosign puts on a bundle referrer manifest and its layer.
const (
	annotationCreated       = "org.opencontainers.image.created"
	annotationContent       = "dev.sigstore.bundle.content"
	annotationPredicateType = "dev.sigstore.bundle.predicateType"
	annotationTitle         = "org.opencontainers.image.title"
)

// SignStatement is the in-toto statement cosign v3's sign writes for
// digest: one subject with the digest and empty annotations, cosign's
// sign predicate type, an empty predicate.
func SignStatement(digest v1.Hash) ([]byte, error) {
	type subject struct {
		Digest      map[string]string `json:"digest"`
		Annotations map[string]string `json:"annotations"`
	}
	return json.Marshal(struct {
		Type          string            `json:"_type"`
		Subject       []subject         `json:"subject"`
		PredicateType string            `json:"predicateType"`
		Predicate     map[string]string `json:"predicate"`
	}{
		Type:          cosign.StatementType,
		Subject:       []subject{{Digest: map[string]string{digest.Algorithm: digest.Hex}, Annotations: map[string]string{}}},
		PredicateType: cosign.SignPredicateType,
		Predicate:     map[string]string{},
	})
}

// Bundle signs statement with priv into a Sigstore bundle v0.3 as cosign
// sign --key --tlog-upload=false writes it: a DSSE envelope of payload type
// application/vnd.in-toto+json signed over its pre-authentication
// encoding, and the public key's hint as verification material (or the
// certificate given WithCertificate).
func Bundle(statement []byte, priv crypto.Signer, opts ...Option) ([]byte, error) {
	c := newConfig(context.Background(), opts)
	pure := true
	if c.ed25519Pure != nil {
		pure = *c.ed25519Pure
	}
	if _, ok := priv.Public().(ed25519.PublicKey); !ok {
		pure = false
	}
	sig, err := sign(priv, dssePAE(cosign.InTotoPayloadType, statement), true, pure)
	if err != nil {
		return nil, err
	}
	material := map[string]any{}
	if len(c.certificate) > 0 {
		der, err := certificateDER(c.certificate)
		if err != nil {
			return nil, err
		}
		material["certificate"] = map[string]string{"rawBytes": base64.StdEncoding.EncodeToString(der)}
	} else {
		hint, err := keyHint(priv.Public())
		if err != nil {
			return nil, err
		}
		material["publicKey"] = map[string]string{"hint": hint}
	}
	return json.Marshal(map[string]any{
		"mediaType":            cosign.BundleMediaType,
		"verificationMaterial": material,
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(statement),
			"payloadType": cosign.InTotoPayloadType,
			"signatures":  []map[string]string{{"sig": base64.StdEncoding.EncodeToString(sig)}},
		},
	})
}

// SignBundle signs digest in repo with priv in cosign v3's bundle format
// and attaches the bundle as cosign does: the empty config blob "{}" and
// the bundle blob uploaded, then an OCI image manifest of artifactType
// application/vnd.dev.sigstore.bundle.v0.3+json whose subject is the
// signed manifest, pushed by digest. On a registry with the referrers API
// that is all; on one without, go-containerregistry adds the manifest to
// the referrers tag index sha256-<hex>, as it does for cosign.
func SignBundle(ctx context.Context, repo name.Repository, digest v1.Hash, priv crypto.Signer, opts ...Option) error {
	c := newConfig(ctx, opts)
	statement, err := SignStatement(c.claimedDigest(digest))
	if err != nil {
		return err
	}
	bundle, err := Bundle(statement, priv, opts...)
	if err != nil {
		return err
	}
	return AttachBundle(ctx, repo, digest, bundle, opts...)
}

// AttachBundle attaches bundle bytes to digest in repo as SignBundle does;
// tests use it to attach a bundle they changed.
func AttachBundle(ctx context.Context, repo name.Repository, digest v1.Hash, bundle []byte, opts ...Option) error {
	c := newConfig(ctx, opts)
	subject, err := remote.Head(repo.Digest(digest.String()), c.remote...)
	if err != nil {
		return fmt.Errorf("reading the subject %s: %w", digest, err)
	}
	config := static.NewLayer([]byte("{}"), cosign.EmptyConfigMediaType)
	layer := static.NewLayer(bundle, cosign.BundleMediaType)
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l, c.remote...); err != nil {
			return fmt.Errorf("uploading a blob to %s: %w", repo, err)
		}
	}
	configDesc, err := describe(config)
	if err != nil {
		return err
	}
	configDesc.ArtifactType = cosign.BundleMediaType
	layerDesc, err := describe(layer)
	if err != nil {
		return err
	}
	layerDesc.Annotations = map[string]string{annotationTitle: layerDesc.Digest.Algorithm + "-" + layerDesc.Digest.Hex + ".sigstore.json"}
	raw, err := json.Marshal(referrer{
		Manifest: v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			Config:        configDesc,
			Layers:        []v1.Descriptor{layerDesc},
			Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
			Annotations: map[string]string{
				annotationCreated:       c.created.UTC().Format(time.RFC3339),
				annotationContent:       "dsse-envelope",
				annotationPredicateType: cosign.SignPredicateType,
			},
		},
		ArtifactType: cosign.BundleMediaType,
	})
	if err != nil {
		return err
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := remote.Put(repo.Digest(h.String()), rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, c.remote...); err != nil {
		return fmt.Errorf("pushing the bundle referrer to %s: %w", repo, err)
	}
	if c.stripIndexArt {
		return stripIndexArtifactType(repo, digest, c.remote)
	}
	return nil
}

// referrer is an OCI 1.1 image manifest: v1.Manifest has no artifactType.
type referrer struct {
	v1.Manifest
	ArtifactType string `json:"artifactType,omitempty"`
}

// rawManifest is a manifest pushed as given.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mediaType, nil }

func describe(l v1.Layer) (v1.Descriptor, error) {
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, nil
}

// stripIndexArtifactType rewrites the referrers tag index without the
// entries' artifactType.
func stripIndexArtifactType(repo name.Repository, digest v1.Hash, opts []remote.Option) error {
	tag := fallbackTag(repo, digest)
	desc, err := remote.Get(tag, opts...)
	if err != nil {
		return fmt.Errorf("reading the referrers tag %s (a registry with the referrers API has none): %w", tag, err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(desc.Manifest, &im); err != nil {
		return fmt.Errorf("referrers tag %s: %w", tag, err)
	}
	for i := range im.Manifests {
		im.Manifests[i].ArtifactType = ""
	}
	raw, err := json.Marshal(im)
	if err != nil {
		return err
	}
	return remote.Put(tag, rawManifest{raw: raw, mediaType: types.OCIImageIndex}, opts...)
}

// dssePAE is DSSE v1's pre-authentication encoding.
func dssePAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}
