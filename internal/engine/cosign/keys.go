package cosign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
)

// minRSABits is the smallest RSA modulus accepted, as sigstore's algorithm
// registry (2048, 3072 and 4096 bits).
const minRSABits = 2048

// PublicKey is one trusted cosign public key.
type PublicKey struct {
	// Name is the Secret data key the key came from, such as "cosign.pub".
	Name string
	// Key is an *ecdsa.PublicKey (P-256, P-384 or P-521), an *rsa.PublicKey
	// or an ed25519.PublicKey.
	Key crypto.PublicKey
}

// ParsePublicKeys reads every "*.pub" entry of a Secret's data, in the
// order of the entry names, as a PEM "PUBLIC KEY" block (PKIX, as cosign
// generate-key-pair writes it) or "RSA PUBLIC KEY" (PKCS #1). Entries not
// ending in ".pub" are ignored. The error names the entry that does not
// parse and wraps ErrInvalidKey; a Secret without any *.pub entry gives
// ErrNoKeys.
func ParsePublicKeys(files map[string][]byte) ([]PublicKey, error) {
	var names []string
	for name := range files {
		if strings.HasSuffix(name, ".pub") {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, ErrNoKeys
	}
	slices.Sort(names)
	keys := make([]PublicKey, 0, len(names))
	for _, name := range names {
		key, err := parsePublicKey(files[name])
		if err != nil {
			return nil, fmt.Errorf("%w in Secret key %s: %s", ErrInvalidKey, name, err)
		}
		keys = append(keys, PublicKey{Name: name, Key: key})
	}
	return keys, nil
}

func parsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block (expected -----BEGIN PUBLIC KEY-----)")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key (expected PUBLIC KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("PEM %s block: %w", block.Type, err)
	}
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("ECDSA curve %s is not supported (P-256, P-384 or P-521)", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is too short (at least %d)", k.N.BitLen(), minRSABits)
		}
		return k, nil
	case ed25519.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("key type %T is not supported (ECDSA, RSA or Ed25519)", key)
}

// verify reports whether sig is a signature of msg by the key, in any of
// the schemes cosign signs with for this key type:
//   - ECDSA: ASN.1 signature over the curve's default hash (SHA-256,
//     SHA-384, SHA-512, what sigstore-go signs bundles with) or over SHA-256
//     (cosign's default --signature-digest-algorithm);
//   - RSA: PKCS #1 v1.5 over SHA-256 (cosign's default) or PSS over SHA-256;
//   - Ed25519: pure Ed25519 (DSSE in bundles) or Ed25519ph (cosign's
//     default for signatures over a payload blob).
func (k PublicKey) verify(msg, sig []byte) bool {
	switch key := k.Key.(type) {
	case *ecdsa.PublicKey:
		hashes := []crypto.Hash{curveHash(key.Curve)}
		if hashes[0] != crypto.SHA256 {
			hashes = append(hashes, crypto.SHA256)
		}
		for _, h := range hashes {
			if ecdsa.VerifyASN1(key, digestOf(h, msg), sig) {
				return true
			}
		}
		return false
	case *rsa.PublicKey:
		d := digestOf(crypto.SHA256, msg)
		return rsa.VerifyPKCS1v15(key, crypto.SHA256, d, sig) == nil ||
			rsa.VerifyPSS(key, crypto.SHA256, d, sig, nil) == nil
	case ed25519.PublicKey:
		if ed25519.Verify(key, msg, sig) {
			return true
		}
		return ed25519.VerifyWithOptions(key, digestOf(crypto.SHA512, msg), sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	}
	return false
}

// curveHash is the hash sigstore pairs with an ECDSA curve by default.
func curveHash(c elliptic.Curve) crypto.Hash {
	switch c {
	case elliptic.P384():
		return crypto.SHA384
	case elliptic.P521():
		return crypto.SHA512
	}
	return crypto.SHA256
}

func digestOf(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		return d[:]
	}
	d := sha256.Sum256(msg)
	return d[:]
}

// keyNames lists the keys' Secret entry names for messages.
func keyNames(keys []PublicKey) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
		if names[i] == "" {
			names[i] = fmt.Sprintf("key %d", i)
		}
	}
	return strings.Join(names, ", ")
}
