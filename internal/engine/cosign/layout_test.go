package cosign_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
)

// emptyJSONDigest is the digest of "{}", the OCI empty descriptor's blob.
const emptyJSONDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

// TestSignBundleLayout checks that the test signer writes cosign's bundle
// layout (specs/BUNDLE_SPEC.md in cosign): the referrer manifest, the
// bundle, the statement and, without the referrers API, the tag index.
func TestSignBundleLayout(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, api := range []bool{true, false} {
		t.Run(apiName(api), func(t *testing.T) {
			reg := newRegistry(t, api)
			key := newKey(t, "ecdsa-p256")
			repo := reg.repo(t, "app")
			digest := pushArtifact(t, repo, "v1")
			subject, err := remote.Head(repo.Digest(digest.String()))
			if err != nil {
				t.Fatal(err)
			}
			mustSign(t, signers[0], repo, digest, key, cosigntest.WithCreated(created))

			idx, err := remote.Referrers(repo.Digest(digest.String()))
			if err != nil {
				t.Fatal(err)
			}
			im, err := idx.IndexManifest()
			if err != nil || len(im.Manifests) != 1 {
				t.Fatalf("referrers: %+v, %v; want one", im, err)
			}
			entry := im.Manifests[0]
			if !api && (entry.ArtifactType != cosign.BundleMediaType || entry.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope") {
				t.Errorf("tag index entry %+v, want artifactType %s and the manifest's annotations", entry, cosign.BundleMediaType)
			}

			m := getJSON(t, repo.Digest(entry.Digest.String()))
			want := map[string]any{
				"schemaVersion": 2.0,
				"mediaType":     "application/vnd.oci.image.manifest.v1+json",
				"artifactType":  cosign.BundleMediaType,
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("manifest %s = %v, want %v", k, m[k], v)
				}
			}
			config := m["config"].(map[string]any)
			if config["mediaType"] != cosign.EmptyConfigMediaType || config["digest"] != emptyJSONDigest || config["size"] != 2.0 {
				t.Errorf("config %v, want the empty descriptor", config)
			}
			ann := m["annotations"].(map[string]any)
			if ann["dev.sigstore.bundle.content"] != "dsse-envelope" || ann["dev.sigstore.bundle.predicateType"] != cosign.SignPredicateType || ann["org.opencontainers.image.created"] != "2026-01-02T03:04:05Z" {
				t.Errorf("annotations %v", ann)
			}
			sub := m["subject"].(map[string]any)
			if sub["digest"] != digest.String() || sub["mediaType"] != string(subject.MediaType) || sub["size"] != float64(subject.Size) {
				t.Errorf("subject %v, want %s %s %d", sub, subject.MediaType, digest, subject.Size)
			}
			layers := m["layers"].([]any)
			if len(layers) != 1 {
				t.Fatalf("layers %v, want one", layers)
			}
			layer := layers[0].(map[string]any)
			layerDigest, err := v1.NewHash(layer["digest"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if layer["mediaType"] != cosign.BundleMediaType || layer["annotations"].(map[string]any)["org.opencontainers.image.title"] != "sha256-"+layerDigest.Hex+".sigstore.json" {
				t.Errorf("layer %v", layer)
			}

			b := getBlobJSON(t, repo, layerDigest)
			der, err := x509.MarshalPKIXPublicKey(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(der)
			vm := b["verificationMaterial"].(map[string]any)
			if b["mediaType"] != cosign.BundleMediaType || vm["publicKey"].(map[string]any)["hint"] != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Errorf("bundle %v, want media type %s and the key's hint", b, cosign.BundleMediaType)
			}
			env := b["dsseEnvelope"].(map[string]any)
			sigs := env["signatures"].([]any)
			if env["payloadType"] != cosign.InTotoPayloadType || len(sigs) != 1 || sigs[0].(map[string]any)["sig"] == "" {
				t.Errorf("envelope %v", env)
			}
			payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
			if err != nil {
				t.Fatal(err)
			}
			var st map[string]any
			if err := json.Unmarshal(payload, &st); err != nil {
				t.Fatal(err)
			}
			subj := st["subject"].([]any)[0].(map[string]any)
			if st["_type"] != cosign.StatementType || st["predicateType"] != cosign.SignPredicateType ||
				subj["digest"].(map[string]any)["sha256"] != digest.Hex || len(st["predicate"].(map[string]any)) != 0 {
				t.Errorf("statement %s", payload)
			}
		})
	}
}

// TestSignLegacyLayout checks that the test signer writes cosign's legacy
// layout (specs/SIGNATURE_SPEC.md in cosign).
func TestSignLegacyLayout(t *testing.T) {
	reg := newRegistry(t, true)
	key := newKey(t, "ecdsa-p256")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	mustSign(t, signers[1], repo, digest, key)

	m := getJSON(t, repo.Tag("sha256-"+digest.Hex+".sig"))
	if m["mediaType"] != "application/vnd.oci.image.manifest.v1+json" || m["config"].(map[string]any)["mediaType"] != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("manifest %v, want an OCI image manifest with an OCI config", m)
	}
	layers := m["layers"].([]any)
	if len(layers) != 1 {
		t.Fatalf("layers %v, want one", layers)
	}
	layer := layers[0].(map[string]any)
	sig := layer["annotations"].(map[string]any)[cosign.SignatureAnnotation].(string)
	if layer["mediaType"] != cosign.SimpleSigningMediaType || sig == "" {
		t.Errorf("layer %v", layer)
	}
	if _, err := base64.StdEncoding.DecodeString(sig); err != nil {
		t.Errorf("signature annotation is not base64: %v", err)
	}
	h, err := v1.NewHash(layer["digest"].(string))
	if err != nil {
		t.Fatal(err)
	}
	p := getBlobJSON(t, repo, h)
	critical := p["critical"].(map[string]any)
	if critical["type"] != "cosign container image signature" ||
		critical["image"].(map[string]any)["docker-manifest-digest"] != digest.String() ||
		critical["identity"].(map[string]any)["docker-reference"] != repo.Name() {
		t.Errorf("payload %v", p)
	}
	if v, ok := p["optional"]; !ok || v != nil {
		t.Errorf(`payload "optional" = %v, want null`, v)
	}
}

func getJSON(t *testing.T, ref name.Reference) map[string]any {
	t.Helper()
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	var m map[string]any
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func getBlobJSON(t *testing.T, repo name.Repository, h v1.Hash) map[string]any {
	t.Helper()
	l, err := remote.Layer(repo.Digest(h.String()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var m map[string]any
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
