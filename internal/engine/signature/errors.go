package signature

import "errors"

// The errors Verify and KeyRingFromSecret wrap. Test for them with errors.Is;
// the wrapping error adds the details (key entry, key ID, fingerprint).
var (
	// ErrUnsigned is returned when the Git object carries no signature.
	ErrUnsigned = errors.New("object is not signed")
	// ErrNoMatchingKey is returned when the signing key is not one of the
	// trusted public keys.
	ErrNoMatchingKey = errors.New("signing key is not among the trusted public keys")
	// ErrInvalidSignature is returned when a trusted key made the signature
	// but it does not verify: the payload was changed, the signature was
	// made for another purpose (SSH namespace), or the key expired or was
	// revoked.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrMalformedSignature is returned when the signature cannot be decoded.
	ErrMalformedSignature = errors.New("malformed signature")
	// ErrUnsupportedSignature is returned for signature formats, versions or
	// algorithms this package does not accept (X.509, SHA-1 RSA SSH
	// signatures, unknown sshsig versions or hash algorithms).
	ErrUnsupportedSignature = errors.New("unsupported signature")
	// ErrInvalidKey is returned by KeyRingFromSecret for an entry that does
	// not hold valid public keys.
	ErrInvalidKey = errors.New("invalid public key entry")
	// ErrNoKeys is returned by KeyRingFromSecret when the data holds no entry.
	ErrNoKeys = errors.New("no public keys")
)
