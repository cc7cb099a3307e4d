package cosign_test

import (
	"context"
	"crypto"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
)

// TestVerify signs in each format, on a registry with and one without the
// referrers API, with each key type, and verifies with the signing key
// (true) and with another key of the same type (false).
func TestVerify(t *testing.T) {
	for _, api := range []bool{true, false} {
		reg := newRegistry(t, api)
		for _, kind := range keyKinds {
			key, other := newKey(t, kind), newKey(t, kind)
			for _, s := range signers {
				t.Run(apiName(api)+"/"+kind+"/"+s.format, func(t *testing.T) {
					repo := reg.repo(t, "app-"+kind+"-"+s.format)
					digest := pushArtifact(t, repo, "1.0.0")
					mustSign(t, s, repo, digest, key)

					res, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
					if err != nil {
						t.Fatalf("Verify with the signing key: %v", err)
					}
					if res.Format != s.format || res.KeyIndex != 0 || res.KeyName != "a.pub" {
						t.Errorf("Result = %+v, want format %s, key 0 (a.pub)", res, s.format)
					}

					_, err = cosign.Verify(context.Background(), repo, digest, publicKeys(t, other))
					if !errors.Is(err, cosign.ErrInvalidSignature) {
						t.Fatalf("Verify with another key: err = %v, want ErrInvalidSignature", err)
					}
					for _, want := range []string{repo.Name(), digest.String(), "a.pub"} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q does not name %q", err, want)
						}
					}
				})
			}
		}
	}
}

func apiName(referrersAPI bool) string {
	if referrersAPI {
		return "referrers-api"
	}
	return "referrers-tag"
}

// TestVerifyReferrersPath checks which way the bundle was found: the
// referrers API where the registry has it, else the index at the tag
// sha256-<hex>, which then exists.
func TestVerifyReferrersPath(t *testing.T) {
	key := newKey(t, "ecdsa-p256")
	for _, api := range []bool{true, false} {
		t.Run(apiName(api), func(t *testing.T) {
			reg := newRegistry(t, api)
			repo := reg.repo(t, "app")
			digest := pushArtifact(t, repo, "v1")
			mustSign(t, signers[0], repo, digest, key)
			if _, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key)); err != nil {
				t.Fatal(err)
			}
			tags := listTags(t, repo)
			fallback := "sha256-" + digest.Hex
			if api == contains(tags, fallback) {
				t.Errorf("tags %v: referrers API %v, yet the tag %s exists: %v", tags, api, fallback, contains(tags, fallback))
			}
			if reg.referrers() == 0 {
				t.Error("the referrers API was never asked")
			}
		})
	}
}

// TestVerifySecondKeyMatches gives two keys, only the second of which
// signed.
func TestVerifySecondKeyMatches(t *testing.T) {
	reg := newRegistry(t, true)
	signerKey, other := newKey(t, "ecdsa-p256"), newKey(t, "ed25519")
	for _, s := range signers {
		t.Run(s.format, func(t *testing.T) {
			repo := reg.repo(t, "two-keys-"+s.format)
			digest := pushArtifact(t, repo, "v1")
			mustSign(t, s, repo, digest, signerKey)
			res, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, other, signerKey))
			if err != nil {
				t.Fatal(err)
			}
			if res.KeyIndex != 1 || res.KeyName != "b.pub" || res.Format != s.format {
				t.Errorf("Result = %+v, want the second key (b.pub), format %s", res, s.format)
			}
		})
	}
}

// TestVerifyAnotherDigest attaches to an artifact a signature whose
// payload names another digest.
func TestVerifyAnotherDigest(t *testing.T) {
	reg := newRegistry(t, false)
	key := newKey(t, "ecdsa-p256")
	for _, s := range signers {
		t.Run(s.format, func(t *testing.T) {
			repo := reg.repo(t, "copied-"+s.format)
			digest := pushArtifact(t, repo, "v1")
			elsewhere := pushArtifact(t, repo, "v2")
			mustSign(t, s, repo, digest, key, cosigntest.WithClaimedDigest(elsewhere))
			_, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
			if !errors.Is(err, cosign.ErrDigestMismatch) {
				t.Fatalf("err = %v, want ErrDigestMismatch", err)
			}
			for _, want := range []string{repo.Name(), digest.String(), elsewhere.String()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// TestVerifyNoSignature verifies an unsigned artifact, one whose
// neighbour is signed.
func TestVerifyNoSignature(t *testing.T) {
	key := newKey(t, "ecdsa-p256")
	for _, api := range []bool{true, false} {
		t.Run(apiName(api), func(t *testing.T) {
			reg := newRegistry(t, api)
			repo := reg.repo(t, "app")
			signed := pushArtifact(t, repo, "1.2.0")
			unsigned := pushArtifact(t, repo, "1.3.0")
			for _, s := range signers {
				mustSign(t, s, repo, signed, key)
			}
			_, err := cosign.Verify(context.Background(), repo, unsigned, publicKeys(t, key))
			if !errors.Is(err, cosign.ErrNoSignature) {
				t.Fatalf("err = %v, want ErrNoSignature", err)
			}
			for _, want := range []string{repo.Name(), unsigned.String(), "sha256-" + unsigned.Hex + ".sig"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
		})
	}
}

// TestVerifyBundleFirst signs in both formats: the bundle is reported.
// When only the legacy signature is by a trusted key, it verifies.
func TestVerifyBundleFirst(t *testing.T) {
	reg := newRegistry(t, true)
	a, b := newKey(t, "ecdsa-p256"), newKey(t, "ecdsa-p256")

	repo := reg.repo(t, "both")
	digest := pushArtifact(t, repo, "v1")
	mustSign(t, signers[1], repo, digest, a)
	mustSign(t, signers[0], repo, digest, a)
	res, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, a))
	if err != nil || res.Format != cosign.FormatBundle {
		t.Fatalf("Verify = %+v, %v; want the bundle", res, err)
	}

	repo = reg.repo(t, "legacy-trusted")
	digest = pushArtifact(t, repo, "v1")
	mustSign(t, signers[0], repo, digest, a)
	mustSign(t, signers[1], repo, digest, b)
	res, err = cosign.Verify(context.Background(), repo, digest, publicKeys(t, b))
	if err != nil || res.Format != cosign.FormatLegacy {
		t.Fatalf("Verify = %+v, %v; want the legacy signature", res, err)
	}
}

// TestVerifyLegacyAppends signs the legacy tag twice, as two keys would:
// both signatures live in one manifest and each key verifies.
func TestVerifyLegacyAppends(t *testing.T) {
	reg := newRegistry(t, true)
	a, b := newKey(t, "ecdsa-p256"), newKey(t, "rsa-2048")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	mustSign(t, signers[1], repo, digest, a)
	mustSign(t, signers[1], repo, digest, b)
	for i, k := range []crypto.Signer{a, b} {
		res, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, k))
		if err != nil || res.Format != cosign.FormatLegacy {
			t.Errorf("key %d: Verify = %+v, %v", i, res, err)
		}
	}
}

// TestVerifyFallbackIndexWithoutArtifactType reads a referrers tag index
// whose entries have no artifactType: each manifest is fetched.
func TestVerifyFallbackIndexWithoutArtifactType(t *testing.T) {
	reg := newRegistry(t, false)
	key := newKey(t, "ecdsa-p256")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	mustSign(t, signers[0], repo, digest, key, cosigntest.WithoutIndexArtifactType())
	idx := fetchIndex(t, repo.Tag("sha256-"+digest.Hex))
	if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != "" {
		t.Fatalf("referrers tag index %+v, want one entry without artifactType", idx.Manifests)
	}
	res, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key))
	if err != nil || res.Format != cosign.FormatBundle {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}

// TestVerifyEd25519Schemes accepts pure Ed25519 and Ed25519ph in both
// formats: cosign uses each, depending on version and format.
func TestVerifyEd25519Schemes(t *testing.T) {
	reg := newRegistry(t, true)
	key := newKey(t, "ed25519")
	for _, prehash := range []bool{true, false} {
		for _, s := range signers {
			repo := reg.repo(t, "ed-"+s.format)
			digest := pushArtifact(t, repo, "v1")
			mustSign(t, s, repo, digest, key, cosigntest.WithEd25519Prehash(prehash))
			if _, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, key)); err != nil {
				t.Errorf("%s, prehash %v: %v", s.format, prehash, err)
			}
		}
	}
}

// TestVerifyKeyless refuses certificate (keyless) signatures as
// unsupported rather than invalid.
func TestVerifyKeyless(t *testing.T) {
	reg := newRegistry(t, true)
	ephemeral, trusted := newKey(t, "ecdsa-p256"), newKey(t, "ecdsa-p256")
	cert := selfSignedPEM(t, ephemeral)
	for _, s := range signers {
		t.Run(s.format, func(t *testing.T) {
			repo := reg.repo(t, "keyless-"+s.format)
			digest := pushArtifact(t, repo, "v1")
			mustSign(t, s, repo, digest, ephemeral, cosigntest.WithCertificate(cert))
			_, err := cosign.Verify(context.Background(), repo, digest, publicKeys(t, trusted))
			if !errors.Is(err, cosign.ErrUnsupported) || !strings.Contains(err.Error(), "keyless") {
				t.Fatalf("err = %v, want ErrUnsupported naming keyless", err)
			}
		})
	}
}

// TestVerifyArguments refuses no keys and a digest that is not sha256.
func TestVerifyArguments(t *testing.T) {
	repo, err := name.NewRepository("127.0.0.1:1/app", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := cosign.ParseDigest("sha256:" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cosign.Verify(context.Background(), repo, digest, nil); !errors.Is(err, cosign.ErrNoKeys) {
		t.Errorf("no keys: err = %v, want ErrNoKeys", err)
	}
	sha512, err := cosign.ParseDigest("sha512:" + strings.Repeat("ab", 64))
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, "ed25519")
	if _, err := cosign.Verify(context.Background(), repo, sha512, publicKeys(t, key)); !errors.Is(err, cosign.ErrUnsupported) {
		t.Errorf("sha512: err = %v, want ErrUnsupported", err)
	}
	if _, err := cosign.ParseDigest("sha256:nothex"); err == nil {
		t.Error("ParseDigest accepted sha256:nothex")
	}
}

// TestVerifyRegistryUnreachable returns an error that is none of the
// verification failures: the caller retries.
func TestVerifyRegistryUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	repo, err := name.NewRepository(host+"/app", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := cosign.ParseDigest("sha256:" + strings.Repeat("cd", 32))
	_, err = cosign.Verify(context.Background(), repo, digest, publicKeys(t, newKey(t, "ed25519")))
	if err == nil {
		t.Fatal("Verify succeeded against a closed registry")
	}
	for _, sentinel := range []error{cosign.ErrNoSignature, cosign.ErrInvalidSignature, cosign.ErrDigestMismatch, cosign.ErrUnsupported} {
		if errors.Is(err, sentinel) {
			t.Errorf("err = %v wraps %v; a registry failure is not a verdict", err, sentinel)
		}
	}
	if !strings.Contains(err.Error(), repo.Name()) {
		t.Errorf("error %q does not name the repository", err)
	}
}

// TestVerifyCanceled stops at a canceled context.
func TestVerifyCanceled(t *testing.T) {
	reg := newRegistry(t, true)
	key := newKey(t, "ecdsa-p256")
	repo := reg.repo(t, "app")
	digest := pushArtifact(t, repo, "v1")
	mustSign(t, signers[0], repo, digest, key)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := cosign.Verify(ctx, repo, digest, publicKeys(t, key))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
