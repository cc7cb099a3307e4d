package bucket

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Revision returns the revision of idx as Flux computes it for a Bucket, so
// that one bucket gives Driftless and Flux the same revision: the keys in
// lexical order, one line "<key> <etag>\n" each (the ETag unquoted), hashed
// with algo (sha256, sha384 or sha512), formatted "<algo>:<hex>". It returns
// "" for an unsupported algorithm; CheckDigestAlgo tells why.
func Revision(idx Index, algo string) string {
	h, err := newHash(algo)
	if err != nil {
		return ""
	}
	for _, o := range idx.sorted() {
		_, _ = io.WriteString(h, o.Key+" "+o.ETag+"\n")
	}
	return algo + ":" + hex.EncodeToString(h.Sum(nil))
}

// CheckDigestAlgo reports whether Revision supports algo, so a caller can
// refuse a misconfigured --artifact-digest-algo before any listing.
func CheckDigestAlgo(algo string) error {
	_, err := newHash(algo)
	return err
}

// newHash returns the hash named by algo.
func newHash(algo string) (hash.Hash, error) {
	switch algo {
	case "sha256":
		return sha256.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q (supported: %s)", algo,
		strings.Join([]string{"sha256", "sha384", "sha512"}, ", "))
}
