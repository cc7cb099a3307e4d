// Package cosigntest signs OCI artifacts the way cosign sign --key does, in
// both of cosign's formats, for tests: the Sigstore bundle referrer
// (cosign v3's default, --new-bundle-format) and the legacy
// sha256-<hex>.sig tag (--new-bundle-format=false). It is its own code over
// go-containerregistry and the standard library, written from cosign's
// published specifications (specs/BUNDLE_SPEC.md, specs/SIGNATURE_SPEC.md)
// and independent of package cosign's verifier, so that each checks the
// other.
//
// What it writes matches cosign sign with --tlog-upload=false and no
// timestamp authority: no transparency log entry, no timestamp, the
// verification material a public key hint. The real cosign verify accepts
// such signatures with --key and --insecure-ignore-tlog.
package cosigntest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option changes what a Sign function writes or how it reaches the
// registry.
type Option func(*config)

type config struct {
	remote        []remote.Option
	claimed       *v1.Hash
	created       time.Time
	certificate   []byte
	stripIndexArt bool
	ed25519Pure   *bool
}

// WithRemote passes options (auth, transport) to the registry client.
func WithRemote(opts ...remote.Option) Option {
	return func(c *config) { c.remote = append(c.remote, opts...) }
}

// WithClaimedDigest makes the signed payload name h instead of the digest
// the signature is attached to: a signature copied from another artifact,
// which verification must refuse.
func WithClaimedDigest(h v1.Hash) Option {
	return func(c *config) { c.claimed = &h }
}

// WithCreated sets the bundle manifest's org.opencontainers.image.created
// annotation (default: the current time, as cosign).
func WithCreated(t time.Time) Option {
	return func(c *config) { c.created = t }
}

// WithCertificate marks the signature keyless as cosign does with a Fulcio
// certificate: the PEM certificate in the legacy layer's
// dev.sigstore.cosign/certificate annotation, or (DER) as the bundle's
// verification material instead of a public key hint. The certificate is
// not checked; it only makes the signature look keyless.
func WithCertificate(certPEM []byte) Option {
	return func(c *config) { c.certificate = certPEM }
}

// WithoutIndexArtifactType rewrites the referrers tag index sha256-<hex>
// after a bundle push with its entries' artifactType removed, as some
// tools write it. It fails on a registry that serves the referrers API,
// where no such index is written.
func WithoutIndexArtifactType() Option {
	return func(c *config) { c.stripIndexArt = true }
}

// WithEd25519Prehash chooses the Ed25519 scheme: Ed25519ph (true) or pure
// Ed25519 (false). By default a bundle's DSSE envelope is signed with pure
// Ed25519 and a legacy payload with Ed25519ph, as cosign v3 does.
func WithEd25519Prehash(prehash bool) Option {
	pure := !prehash
	return func(c *config) { c.ed25519Pure = &pure }
}

func newConfig(ctx context.Context, opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	c.remote = append(c.remote, remote.WithContext(ctx))
	if c.created.IsZero() {
		c.created = time.Now()
	}
	return c
}

func (c *config) claimedDigest(digest v1.Hash) v1.Hash {
	if c.claimed != nil {
		return *c.claimed
	}
	return digest
}

// sign signs msg with priv in the scheme cosign uses for the key type.
// curveHash picks the ECDSA hash from the curve (sigstore-go's default,
// bundles) rather than SHA-256 (cosign's legacy default); pure picks the
// Ed25519 variant.
func sign(priv crypto.Signer, msg []byte, curveHash, pure bool) ([]byte, error) {
	switch pub := priv.Public().(type) {
	case *ecdsa.PublicKey:
		h := crypto.SHA256
		if curveHash {
			switch pub.Curve {
			case elliptic.P384():
				h = crypto.SHA384
			case elliptic.P521():
				h = crypto.SHA512
			}
		}
		return priv.Sign(rand.Reader, hashOf(h, msg), h)
	case *rsa.PublicKey:
		return priv.Sign(rand.Reader, hashOf(crypto.SHA256, msg), crypto.SHA256)
	case ed25519.PublicKey:
		if pure {
			return priv.Sign(rand.Reader, msg, crypto.Hash(0))
		}
		return priv.Sign(rand.Reader, hashOf(crypto.SHA512, msg), &ed25519.Options{Hash: crypto.SHA512})
	}
	return nil, fmt.Errorf("key type %T is not supported (ECDSA, RSA or Ed25519)", priv.Public())
}

func hashOf(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		return d[:]
	}
	d := sha256.Sum256(msg)
	return d[:]
}

// keyHint is sigstore's public key hint: base64 of the SHA-256 of the
// PKIX DER public key.
func keyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// PublicKeyPEM encodes pub as cosign generate-key-pair writes cosign.pub:
// a PEM "PUBLIC KEY" block (PKIX).
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// fallbackTag is the referrers tag schema's tag for digest.
func fallbackTag(repo name.Repository, digest v1.Hash) name.Tag {
	return repo.Tag(digest.Algorithm + "-" + digest.Hex)
}

// certificateDER decodes a PEM certificate for a bundle's verification
// material.
func certificateDER(certPEM []byte) ([]byte, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("WithCertificate: not a PEM CERTIFICATE")
	}
	return block.Bytes, nil
}
