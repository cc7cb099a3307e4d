package sops

import "errors"

var (
	// ErrNotConfigured reports an encrypted object or file met while no
	// decryption secret is configured (a nil *Keys).
	ErrNotConfigured = errors.New("decryption secret not configured")
	// ErrNoMatchingKey reports that none of the configured keys could recover
	// a document's data key.
	ErrNoMatchingKey = errors.New("no configured key could decrypt the SOPS data key")
	// ErrUnsupportedKeyType reports a document that can only be decrypted with
	// a master key type Driftless does not support yet (cloud KMS, Vault).
	ErrUnsupportedKeyType = errors.New("SOPS master key type not supported yet")
	// ErrIntegrity reports a document whose MAC or encrypted values do not
	// authenticate: it was tampered with or corrupted.
	ErrIntegrity = errors.New("SOPS integrity check failed")
	// ErrInvalidDocument reports a malformed SOPS document or metadata.
	ErrInvalidDocument = errors.New("invalid SOPS document")
	// ErrInvalidKey reports a malformed entry in the decryption secret.
	ErrInvalidKey = errors.New("invalid decryption key")
)
