package signature

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// verifyPGP checks an ASCII armored detached OpenPGP signature.
func (k *KeyRing) verifyPGP(payload []byte, armored string) (string, error) {
	block, err := armor.Decode(strings.NewReader(armored))
	if err != nil {
		return "", fmt.Errorf("%w: invalid OpenPGP armor: %v", ErrMalformedSignature, err)
	}
	if block.Type != openpgp.SignatureType {
		return "", fmt.Errorf("%w: OpenPGP armor type is %q, want %q", ErrMalformedSignature, clip(block.Type), openpgp.SignatureType)
	}
	// The armor checksum (when present) is checked while reading the body.
	body, err := io.ReadAll(io.LimitReader(block.Body, maxSignatureSize))
	if err != nil {
		return "", fmt.Errorf("%w: invalid OpenPGP armor: %v", ErrMalformedSignature, err)
	}
	issuer, err := pgpIssuer(body)
	if err != nil {
		return "", err
	}

	config := &packet.Config{Time: k.now}
	entity, err := openpgp.CheckDetachedSignature(k.pgp, bytes.NewReader(payload), bytes.NewReader(body), config)
	if err != nil {
		return "", pgpError(issuer, err)
	}
	return entity.PrimaryKey.KeyIdString(), nil
}

// pgpIssuer reads the first signature packet to name the key that made it.
func pgpIssuer(body []byte) (string, error) {
	p, err := packet.NewReader(bytes.NewReader(body)).Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%w: the OpenPGP armor holds no signature packet", ErrMalformedSignature)
		}
		return "", fmt.Errorf("%w: invalid OpenPGP signature packet: %v", ErrMalformedSignature, err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return "", fmt.Errorf("%w: the OpenPGP armor holds a %T, not a signature packet", ErrMalformedSignature, p)
	}
	switch {
	case sig.IssuerKeyId != nil:
		return fmt.Sprintf("%016X", *sig.IssuerKeyId), nil
	case len(sig.IssuerFingerprint) > 0:
		return fmt.Sprintf("%X", sig.IssuerFingerprint), nil
	default:
		return "", fmt.Errorf("%w: the OpenPGP signature does not name its issuer key", ErrMalformedSignature)
	}
}

// pgpError maps go-crypto errors onto this package's errors.
func pgpError(issuer string, err error) error {
	var (
		structural  pgperrors.StructuralError
		unsupported pgperrors.UnsupportedError
		invalid     pgperrors.SignatureError
	)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return fmt.Errorf("%w: signed with OpenPGP key %s", ErrNoMatchingKey, issuer)
	case errors.Is(err, pgperrors.ErrKeyExpired),
		errors.Is(err, pgperrors.ErrSignatureExpired),
		errors.Is(err, pgperrors.ErrKeyRevoked),
		errors.Is(err, pgperrors.ErrSignatureOlderThanKey):
		return fmt.Errorf("%w: OpenPGP key %s: %v", ErrInvalidSignature, issuer, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: OpenPGP signature by key %s does not match the payload: %v", ErrInvalidSignature, issuer, err)
	case errors.As(err, &unsupported):
		return fmt.Errorf("%w: OpenPGP signature by key %s: %v", ErrUnsupportedSignature, issuer, err)
	case errors.As(err, &structural), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: OpenPGP signature by key %s: %v", ErrMalformedSignature, issuer, err)
	default:
		return fmt.Errorf("%w: OpenPGP signature by key %s: %v", ErrInvalidSignature, issuer, err)
	}
}

// clip bounds a string taken from untrusted input before it goes into an
// error message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
