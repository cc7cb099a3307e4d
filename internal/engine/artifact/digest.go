package artifact

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Digest algorithms supported for artifacts, named as in RFC-0005.
const (
	SHA256 = "sha256"
	SHA384 = "sha384"
	SHA512 = "sha512"
)

// DefaultDigestAlgo is the algorithm used when none is configured.
const DefaultDigestAlgo = SHA256

// SupportedDigestAlgos returns the names of the supported digest algorithms.
func SupportedDigestAlgos() []string { return []string{SHA256, SHA384, SHA512} }

// newHash returns a hash for the named algorithm.
func newHash(algo string) (hash.Hash, error) {
	switch algo {
	case SHA256:
		return sha256.New(), nil
	case SHA384:
		return sha512.New384(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q (supported: %s)",
		algo, strings.Join(SupportedDigestAlgos(), ", "))
}

// ParseDigest splits a digest "<algo>:<hex>" and checks that the algorithm is
// supported and that the checksum is lowercase hex of the right length.
func ParseDigest(digest string) (algo, checksum string, err error) {
	algo, checksum, ok := strings.Cut(digest, ":")
	if !ok || algo == "" || checksum == "" {
		return "", "", fmt.Errorf("invalid digest %q: want <algorithm>:<hex>", digest)
	}
	h, err := newHash(algo)
	if err != nil {
		return "", "", fmt.Errorf("invalid digest %q: %w", digest, err)
	}
	if len(checksum) != 2*h.Size() || !isLowerHex(checksum) {
		return "", "", fmt.Errorf("invalid digest %q: the %s checksum must be %d lowercase hex characters",
			digest, algo, 2*h.Size())
	}
	return algo, checksum, nil
}

// digester hashes what is written to it.
type digester struct {
	algo string
	hash hash.Hash
	size int64
}

func newDigester(algo string) (*digester, error) {
	h, err := newHash(algo)
	if err != nil {
		return nil, err
	}
	return &digester{algo: algo, hash: h}, nil
}

func (d *digester) Write(p []byte) (int, error) {
	n, _ := d.hash.Write(p)
	d.size += int64(n)
	return n, nil
}

// Digest returns "<algo>:<hex>" of what was written so far.
func (d *digester) Digest() string {
	return d.algo + ":" + hex.EncodeToString(d.hash.Sum(nil))
}

// digestReader computes the digest with algorithm algo, and the size, of
// everything r yields.
func digestReader(r io.Reader, algo string) (string, int64, error) {
	d, err := newDigester(algo)
	if err != nil {
		return "", 0, err
	}
	if _, err := io.Copy(d, r); err != nil {
		return "", 0, err
	}
	return d.Digest(), d.size, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
