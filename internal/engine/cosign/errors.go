package cosign

import "errors"

// The errors Verify and ParsePublicKeys wrap. Test for them with errors.Is;
// the wrapping error names the repository, the digest and what was found,
// never key material. An error from Verify that wraps none of them is a
// registry or network failure worth retrying.
var (
	// ErrNoSignature is returned when the artifact has neither a bundle
	// referrer nor a legacy signature tag.
	ErrNoSignature = errors.New("no cosign signature found")
	// ErrInvalidSignature is returned when signatures were found but none
	// verifies with any of the trusted keys, or a signed payload was
	// changed after signing.
	ErrInvalidSignature = errors.New("no signature verifies with the trusted keys")
	// ErrDigestMismatch is returned when a trusted key signed, but for
	// another digest than the one resolved: the signature was copied from
	// another artifact.
	ErrDigestMismatch = errors.New("signature is for another digest")
	// ErrUnsupported is returned for what this package does not verify:
	// keyless (certificate) signatures, digests other than sha256, bundle
	// contents other than a DSSE in-toto statement. Callers wrap it for
	// configurations they refuse themselves (keyless matchOIDCIdentity,
	// notation).
	ErrUnsupported = errors.New("unsupported signature")
	// ErrInvalidKey is returned by ParsePublicKeys for a *.pub entry that
	// does not hold a supported public key.
	ErrInvalidKey = errors.New("invalid public key")
	// ErrNoKeys is returned by ParsePublicKeys when the Secret has no *.pub
	// entry, and by Verify when given no key.
	ErrNoKeys = errors.New("the Secret has no *.pub key")
)
