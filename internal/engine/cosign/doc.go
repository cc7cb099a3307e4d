// Package cosign verifies key-based cosign signatures of OCI artifacts with
// go-containerregistry and the standard library's crypto, without the
// sigstore modules.
//
// Two storage formats are read, the new one first:
//
//   - the Sigstore bundle (cosign v3's default): an OCI 1.1 referrer of
//     artifact type application/vnd.dev.sigstore.bundle.v0.3+json, found
//     through the registry's referrers API or, where the registry has none,
//     the referrers tag sha256-<hex>. Its DSSE envelope carries an in-toto
//     statement whose subject names the signed digest;
//   - the legacy signature image at the tag sha256-<hex>.sig: simple-signing
//     payload layers, each signed by the base64 annotation
//     dev.cosignproject.cosign/signature.
//
// Verification is by public key only. Keyless signatures (a Fulcio
// certificate, the transparency log) are reported as unsupported, and the
// transparency log is not consulted, as with cosign verify --key
// --insecure-ignore-tlog. Package cosigntest writes both formats for tests.
package cosign
