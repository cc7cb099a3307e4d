package cosign_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
)

// TestVerifyTamperedLegacyPayload replaces the payload of a legacy
// signature, keeping its signature annotation.
func TestVerifyTamperedLegacyPayload(t *testing.T) {
	reg := newRegistry(t, true)
	key := newKey(t, "ecdsa-p256")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	mustSign(t, signers[1], repo, digest, key)

	tag := repo.Tag("sha256-" + digest.Hex + ".sig")
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	if err := json.NewDecoder(rc).Decode(&payload); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	payload["optional"] = map[string]string{"tampered": "yes"}
	changed, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := mutate.Append(emptySignatureImage(), mutate.Addendum{
		Layer:       static.NewLayer(changed, types.MediaType(cosign.SimpleSigningMediaType)),
		Annotations: m.Layers[0].Annotations,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, forged); err != nil {
		t.Fatal(err)
	}
	_, err = cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
	if !errors.Is(err, cosign.ErrInvalidSignature) {
		t.Fatalf("err = %v, want ErrInvalidSignature", err)
	}
}

// TestVerifyTamperedBundlePayload changes the statement in a bundle's
// DSSE envelope, keeping its signature, and attaches it alone.
func TestVerifyTamperedBundlePayload(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(apiName(api), func(t *testing.T) {
			reg := newRegistry(t, api)
			key := newKey(t, "ecdsa-p256")
			repo := reg.repo(t, "app")
			digest := pushArtifact(t, repo, "v1")
			elsewhere := pushArtifact(t, repo, "v2")

			// Signed for another digest, then rewritten to name this one.
			statement, err := cosigntest.SignStatement(elsewhere)
			if err != nil {
				t.Fatal(err)
			}
			bundle, err := cosigntest.Bundle(statement, key)
			if err != nil {
				t.Fatal(err)
			}
			forged := rewriteEnvelopePayload(t, bundle, bytes.ReplaceAll(statement, []byte(elsewhere.Hex), []byte(digest.Hex)))
			if err := cosigntest.AttachBundle(context.Background(), repo, digest, forged); err != nil {
				t.Fatal(err)
			}
			_, err = cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
			if !errors.Is(err, cosign.ErrInvalidSignature) {
				t.Fatalf("err = %v, want ErrInvalidSignature", err)
			}
			if !strings.Contains(err.Error(), "1 bundle found") {
				t.Errorf("error %q does not say what was found", err)
			}
		})
	}
}

// TestVerifyAttestationIsNotASignature attaches a bundle a trusted key
// signed over the digest whose predicate is not cosign's sign predicate:
// an attestation (an SBOM, provenance) does not approve the artifact.
func TestVerifyAttestationIsNotASignature(t *testing.T) {
	reg := newRegistry(t, true)
	key := newKey(t, "ecdsa-p256")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	statement, err := cosigntest.SignStatement(digest)
	if err != nil {
		t.Fatal(err)
	}
	statement = bytes.Replace(statement, []byte(cosign.SignPredicateType), []byte("https://slsa.dev/provenance/v1"), 1)
	bundle, err := cosigntest.Bundle(statement, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := cosigntest.AttachBundle(context.Background(), repo, digest, bundle); err != nil {
		t.Fatal(err)
	}
	_, err = cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
	if !errors.Is(err, cosign.ErrInvalidSignature) || !strings.Contains(err.Error(), "https://slsa.dev/provenance/v1") {
		t.Fatalf("err = %v, want ErrInvalidSignature naming the predicate type", err)
	}
}

// TestVerifyMalformedBundle attaches a bundle layer that is not JSON.
func TestVerifyMalformedBundle(t *testing.T) {
	reg := newRegistry(t, true)
	key := newKey(t, "ecdsa-p256")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	if err := cosigntest.AttachBundle(context.Background(), repo, digest, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	_, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
	if !errors.Is(err, cosign.ErrInvalidSignature) || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("err = %v, want ErrInvalidSignature saying the bundle is not JSON", err)
	}
}

// rewriteEnvelopePayload replaces the DSSE payload of a bundle.
func rewriteEnvelopePayload(t *testing.T, bundle, payload []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	b["dsseEnvelope"].(map[string]any)["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// emptySignatureImage is the base cosign appends legacy signatures to.
func emptySignatureImage() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// selfSignedPEM is a certificate for key, standing in for a Fulcio
// certificate.
func selfSignedPEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "keyless@example.com"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(0, 0).Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func listTags(t *testing.T, repo name.Repository) []string {
	t.Helper()
	tags, err := remote.List(repo)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func fetchIndex(t *testing.T, ref name.Reference) *v1.IndexManifest {
	t.Helper()
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(desc.Manifest, &im); err != nil {
		t.Fatal(err)
	}
	return &im
}

// TestVerifySkipsOtherReferrers attaches referrers that are not bundles,
// one with an artifactType and one without (only its layer says what it
// is): alone they are no signature; beside a bundle they are skipped.
func TestVerifySkipsOtherReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(apiName(api), func(t *testing.T) {
			reg := newRegistry(t, api)
			key := newKey(t, "ecdsa-p256")
			repo := reg.repo(t, "app")
			digest := pushArtifact(t, repo, "v1")
			attachReferrer(t, repo, digest, "application/spdx+json", "application/spdx+json")
			attachReferrer(t, repo, digest, "", "text/plain")
			if _, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key)); !errors.Is(err, cosign.ErrNoSignature) {
				t.Fatalf("only other referrers: err = %v, want ErrNoSignature", err)
			}
			mustSign(t, signers[0], repo, digest, key)
			if res, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key)); err != nil || res.Format != cosign.FormatBundle {
				t.Fatalf("Verify = %+v, %v", res, err)
			}
		})
	}
}

// attachReferrer pushes an OCI 1.1 referrer of digest with the empty
// config and one layer of layerType.
func attachReferrer(t *testing.T, repo name.Repository, digest v1.Hash, artifactType, layerType string) {
	t.Helper()
	subject, err := remote.Head(repo.Digest(digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	config := static.NewLayer([]byte("{}"), cosign.EmptyConfigMediaType)
	layer := static.NewLayer([]byte("content of "+layerType), types.MediaType(layerType))
	var descs []v1.Descriptor
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(repo, l); err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		size, _ := l.Size()
		mt, _ := l.MediaType()
		descs = append(descs, v1.Descriptor{MediaType: mt, Digest: d, Size: size})
	}
	raw, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  artifactType,
		"config":        descs[0],
		"layers":        descs[1:],
		"subject":       v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(repo.Digest(h.String()), rawManifest(raw)); err != nil {
		t.Fatal(err)
	}
}

// rawManifest pushes an OCI image manifest as given.
type rawManifest []byte

func (r rawManifest) RawManifest() ([]byte, error)        { return r, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
