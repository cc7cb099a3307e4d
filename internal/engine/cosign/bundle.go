package cosign

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// sigstoreBundle is the JSON form (protojson) of a Sigstore bundle: the
// parts a key-based verification reads. The content is one of
// dsseEnvelope (what cosign sign writes for an image) or messageSignature
// (cosign sign-blob).
type sigstoreBundle struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		PublicKey            *struct{} `json:"publicKey"`
		Certificate          *struct{} `json:"certificate"`
		X509CertificateChain *struct{} `json:"x509CertificateChain"`
	} `json:"verificationMaterial"`
	DSSEEnvelope     *dsseEnvelope `json:"dsseEnvelope"`
	MessageSignature *struct{}     `json:"messageSignature"`
}

// dsseEnvelope is a DSSE envelope; protojson writes bytes as base64.
type dsseEnvelope struct {
	Payload     string `json:"payload"`
	PayloadType string `json:"payloadType"`
	Signatures  []struct {
		Sig   string `json:"sig"`
		KeyID string `json:"keyid"`
	} `json:"signatures"`
}

// statement is the part of an in-toto statement verification reads.
type statement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// bundles looks for a Sigstore bundle referrer that a trusted key signed
// for the digest. The referrers API answers first; on a registry without
// it (404 and the like) go-containerregistry reads the referrers tag
// sha256-<hex> instead. Each listed manifest whose artifactType is the
// bundle's, empty (some fallback indexes omit it) or the empty config's
// (registries that take it from the config) is fetched and checked.
func (v *verifier) bundles() (Result, bool) {
	idx, err := remote.Referrers(v.repo.Digest(v.digest.String()), v.opts...)
	if err != nil {
		v.lookupErr = fmt.Errorf("listing referrers: %w", err)
		return Result{}, false
	}
	im, err := idx.IndexManifest()
	if err != nil {
		v.lookupErr = fmt.Errorf("reading referrers: %w", err)
		return Result{}, false
	}
	fetched := 0
	for _, desc := range im.Manifests {
		switch desc.ArtifactType {
		case BundleMediaType, EmptyConfigMediaType, "":
		default:
			continue
		}
		if fetched == maxReferrers {
			v.unsupported = append(v.unsupported, fmt.Sprintf("only the first %d candidate referrers were read", maxReferrers))
			break
		}
		fetched++
		if res, ok := v.bundleReferrer(desc.Digest); ok {
			return res, true
		}
	}
	return Result{}, false
}

// bundleReferrer checks one referrer manifest and its bundle layer.
func (v *verifier) bundleReferrer(digest v1.Hash) (Result, bool) {
	m, _, err := v.getManifest(v.repo.Digest(digest.String()))
	if err != nil {
		v.contentOrLookup(fmt.Sprintf("referrer %s", digest), err)
		return Result{}, false
	}
	if m.Subject != nil && m.Subject.Digest != v.digest {
		return Result{}, false
	}
	if m.ArtifactType != BundleMediaType && (len(m.Layers) == 0 || m.Layers[0].MediaType != BundleMediaType) {
		return Result{}, false // another kind of referrer
	}
	if len(m.Layers) == 0 {
		v.bundlesSeen++
		v.invalid = append(v.invalid, fmt.Sprintf("bundle referrer %s has no layer", digest))
		return Result{}, false
	}
	v.bundlesSeen++
	blob, err := v.getBlob(m.Layers[0])
	if err != nil {
		v.contentOrLookup(fmt.Sprintf("bundle referrer %s", digest), err)
		return Result{}, false
	}
	return v.checkBundle(digest, blob)
}

// checkBundle verifies a bundle's DSSE envelope with the trusted keys and
// that its in-toto statement is cosign's signature of the digest.
func (v *verifier) checkBundle(ref v1.Hash, blob []byte) (Result, bool) {
	var b sigstoreBundle
	if err := json.Unmarshal(blob, &b); err != nil {
		v.invalid = append(v.invalid, fmt.Sprintf("bundle in referrer %s is not JSON: %v", ref, err))
		return Result{}, false
	}
	if !strings.HasPrefix(b.MediaType, "application/vnd.dev.sigstore.bundle") {
		v.invalid = append(v.invalid, fmt.Sprintf("referrer %s holds media type %q, not a Sigstore bundle", ref, b.MediaType))
		return Result{}, false
	}
	keyless := b.VerificationMaterial.Certificate != nil || b.VerificationMaterial.X509CertificateChain != nil
	env := b.DSSEEnvelope
	if env == nil {
		if b.MessageSignature != nil {
			v.unsupported = append(v.unsupported, fmt.Sprintf("bundle in referrer %s holds a message signature (cosign sign-blob), not the DSSE envelope cosign sign writes for an artifact", ref))
		} else {
			v.invalid = append(v.invalid, fmt.Sprintf("bundle in referrer %s has no DSSE envelope", ref))
		}
		return Result{}, false
	}
	if env.PayloadType != InTotoPayloadType {
		v.unsupported = append(v.unsupported, fmt.Sprintf("bundle in referrer %s has DSSE payload type %q, expected %s", ref, env.PayloadType, InTotoPayloadType))
		return Result{}, false
	}
	payload, err := decodeBase64(env.Payload)
	if err != nil {
		v.invalid = append(v.invalid, fmt.Sprintf("bundle in referrer %s: DSSE payload is not base64", ref))
		return Result{}, false
	}
	msg := pae(env.PayloadType, payload)
	key, ok := -1, false
	for _, s := range env.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil {
			continue
		}
		if key, ok = v.match(msg, sig); ok {
			break
		}
	}
	if !ok {
		if keyless {
			v.keyless++
		} else {
			v.unverified++
		}
		return Result{}, false
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		v.invalid = append(v.invalid, fmt.Sprintf("bundle in referrer %s: the signed payload is not an in-toto statement: %v", ref, err))
		return Result{}, false
	}
	if !strings.HasPrefix(st.Type, "https://in-toto.io/Statement/") {
		v.invalid = append(v.invalid, fmt.Sprintf("bundle in referrer %s: the signed payload has _type %q, not an in-toto statement", ref, st.Type))
		return Result{}, false
	}
	if st.PredicateType != SignPredicateType {
		v.invalid = append(v.invalid, fmt.Sprintf("bundle in referrer %s is an attestation of predicate type %q, not a cosign signature (%s)", ref, st.PredicateType, SignPredicateType))
		return Result{}, false
	}
	var claimed []string
	for _, sub := range st.Subject {
		if sub.Digest["sha256"] == v.digest.Hex {
			return v.result(FormatBundle, key), true
		}
		for alg, hex := range sub.Digest {
			claimed = append(claimed, alg+":"+hex)
		}
	}
	if len(claimed) == 0 {
		claimed = append(claimed, "no subject digest")
	}
	v.otherDigests = append(v.otherDigests, claimed...)
	return Result{}, false
}

// contentOrLookup files an error reading a signature: broken content makes
// the signature invalid, a registry failure leaves the answer unknown.
func (v *verifier) contentOrLookup(what string, err error) {
	if isTransient(err) {
		if v.lookupErr == nil {
			v.lookupErr = fmt.Errorf("%s: %w", what, err)
		}
		return
	}
	v.invalid = append(v.invalid, fmt.Sprintf("%s: %v", what, err))
}

// pae is DSSE's pre-authentication encoding, what the signature covers:
// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII
// decimal.
func pae(payloadType string, payload []byte) []byte {
	out := make([]byte, 0, len(payloadType)+len(payload)+32)
	out = append(out, "DSSEv1 "...)
	out = strconv.AppendInt(out, int64(len(payloadType)), 10)
	out = append(out, ' ')
	out = append(out, payloadType...)
	out = append(out, ' ')
	out = strconv.AppendInt(out, int64(len(payload)), 10)
	out = append(out, ' ')
	return append(out, payload...)
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as
// protojson does when it reads bytes.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}
