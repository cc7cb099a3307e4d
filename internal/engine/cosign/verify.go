package cosign

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Media types, annotations and statement types of cosign's two formats.
const (
	// BundleMediaType is the media type of a Sigstore bundle v0.3: the
	// artifactType of its referrer manifest and the media type of its layer.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// EmptyConfigMediaType is the OCI empty descriptor's media type, the
	// config of a bundle referrer. Registries that derive a referrer's
	// artifactType from its config list bundles under this type.
	EmptyConfigMediaType = "application/vnd.oci.empty.v1+json"
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// StatementType is the in-toto statement type cosign v3 writes.
	StatementType = "https://in-toto.io/Statement/v1"
	// SignPredicateType is the predicate type of the statement cosign sign
	// writes into a bundle: a plain signature, as opposed to an attestation.
	SignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// SimpleSigningMediaType is the media type of a legacy signature's
	// payload layer.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation holds a legacy payload layer's base64 signature.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// CertificateAnnotation holds the Fulcio certificate of a keyless legacy
	// signature.
	CertificateAnnotation = "dev.sigstore.cosign/certificate"
)

// The two formats, as Result.Format reports them.
const (
	// FormatBundle is the Sigstore bundle referrer (cosign v3's default).
	FormatBundle = "bundle"
	// FormatLegacy is the sha256-<hex>.sig tag (cosign before v3, or
	// --new-bundle-format=false).
	FormatLegacy = "legacy"
)

// Bounds on what one verification reads from the registry.
const (
	maxManifestBytes = 4 << 20
	maxBlobBytes     = 1 << 20
	maxReferrers     = 32
	maxLegacyLayers  = 32
)

// Result says how an artifact was verified.
type Result struct {
	// Format is FormatBundle or FormatLegacy.
	Format string
	// KeyIndex is the index in the keys given to Verify of the key that
	// verified the signature.
	KeyIndex int
	// KeyName is that key's Secret entry name (PublicKey.Name).
	KeyName string
}

// Verify checks that one of keys signed the artifact digest in repo with
// cosign. Each key is tried on each signature found; one match suffices.
// The bundle format is tried first, then the legacy one. The digest must be
// sha256, the digest the caller resolved: a signature whose payload names
// another digest does not count.
//
// A failure wraps ErrNoSignature, ErrInvalidSignature, ErrDigestMismatch or
// ErrUnsupported, with a message naming the repository, the digest and what
// was found. Any other error is the registry's (unreachable, 401, 5xx) and
// worth retrying. opts configure the registry client (auth, transport);
// ctx bounds every request.
func Verify(ctx context.Context, repo name.Repository, digest v1.Hash, keys []PublicKey, opts ...remote.Option) (Result, error) {
	where := fmt.Sprintf("repository %s, digest %s", repo.Name(), digest)
	if len(keys) == 0 {
		return Result{}, fmt.Errorf("%s: %w", where, ErrNoKeys)
	}
	if digest.Algorithm != "sha256" || len(digest.Hex) != 64 {
		return Result{}, fmt.Errorf("%s: %w: cosign signatures are looked up by sha256 digest", where, ErrUnsupported)
	}
	v := &verifier{
		repo:   repo,
		digest: digest,
		keys:   keys,
		opts:   append(append([]remote.Option{}, opts...), remote.WithContext(ctx)),
	}
	if res, ok := v.bundles(); ok {
		return res, nil
	}
	if res, ok := v.legacy(); ok {
		return res, nil
	}
	return Result{}, v.failure(where)
}

// ParseDigest parses "sha256:<hex>" for Verify.
func ParseDigest(s string) (v1.Hash, error) {
	h, err := v1.NewHash(s)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("digest %q: %w", s, err)
	}
	return h, nil
}

// verifier is one Verify call: what it looks for and what it found.
type verifier struct {
	repo   name.Repository
	digest v1.Hash
	keys   []PublicKey
	opts   []remote.Option

	bundlesSeen  int      // bundle referrers examined
	legacySeen   int      // legacy payload layers examined
	otherDigests []string // digests a trusted key signed instead
	unverified   int      // well-formed signatures no trusted key made
	invalid      []string // broken signatures: why
	keyless      int      // certificate signatures no key verifies
	unsupported  []string // contents this package does not verify
	lookupErr    error    // the registry failed: the answer is unknown
}

// match returns the index of the first key that verified sig over msg.
func (v *verifier) match(msg, sig []byte) (int, bool) {
	for i, k := range v.keys {
		if k.verify(msg, sig) {
			return i, true
		}
	}
	return 0, false
}

func (v *verifier) result(format string, key int) Result {
	return Result{Format: format, KeyIndex: key, KeyName: v.keys[key].Name}
}

// fallbackTag is the referrers tag schema's tag, sha256-<hex>.
func (v *verifier) fallbackTag() string {
	return v.digest.Algorithm + "-" + v.digest.Hex
}

// failure turns what was found into the error Verify returns. A registry
// failure wins: the signature that would verify may be behind it. Then the
// most specific finding: a trusted key signed another digest, signatures
// that do not verify, only keyless ones, nothing.
func (v *verifier) failure(where string) error {
	if v.lookupErr != nil {
		return fmt.Errorf("%s: looking up cosign signatures: %w", where, v.lookupErr)
	}
	found := v.found()
	switch {
	case len(v.otherDigests) > 0:
		return fmt.Errorf("%s: %w: %s, signed by a trusted key for %s", where, ErrDigestMismatch, found, strings.Join(dedupe(v.otherDigests), ", "))
	case v.unverified > 0 || len(v.invalid) > 0:
		why := ""
		if len(v.invalid) > 0 {
			why = " (" + strings.Join(dedupe(v.invalid), "; ") + ")"
		}
		return fmt.Errorf("%s: %w: %s, none verifies with %s%s", where, ErrInvalidSignature, found, keyNames(v.keys), why)
	case v.keyless > 0:
		return fmt.Errorf("%s: %w: %s, signed keyless (Fulcio certificate) and not by %s; keyless verification is not supported: sign with a key (cosign sign --key) and list its public key in the Secret", where, ErrUnsupported, found, keyNames(v.keys))
	case len(v.unsupported) > 0:
		return fmt.Errorf("%s: %w: %s (%s)", where, ErrUnsupported, found, strings.Join(dedupe(v.unsupported), "; "))
	}
	return fmt.Errorf("%s: %w: no sigstore bundle among its referrers (referrers API or tag %s), no tag %s.sig", where, ErrNoSignature, v.fallbackTag(), v.fallbackTag())
}

// found describes the signatures examined, "1 bundle and 2 legacy signatures".
func (v *verifier) found() string {
	var parts []string
	if v.bundlesSeen > 0 {
		parts = append(parts, plural(v.bundlesSeen, "bundle"))
	}
	if v.legacySeen > 0 {
		parts = append(parts, plural(v.legacySeen, "legacy signature"))
	}
	if len(parts) == 0 {
		return "no signature"
	}
	return strings.Join(parts, " and ") + " found"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
