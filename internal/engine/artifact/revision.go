package artifact

import (
	"fmt"
	"regexp"
	"strings"
)

// algoPattern and checksumPattern are the two halves of the digest pattern
// that the Artifact API validates ("<algorithm>:<checksum>").
var (
	algoPattern     = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$`)
	checksumPattern = regexp.MustCompile(`^[a-zA-Z0-9=_-]+$`)
)

// hexLength returns the checksum length of the algorithms whose checksums are
// hex strings; checksums of these algorithms are checked strictly.
func hexLength(algo string) (int, bool) {
	switch algo {
	case "sha1":
		return 40, true
	case SHA256, "blake3":
		return 64, true
	case SHA384:
		return 96, true
	case SHA512:
		return 128, true
	}
	return 0, false
}

// GitHashDigest returns the digest form of a Git object hash: "sha1:<hash>"
// for a 40-character SHA-1 hash, "sha256:<hash>" for a 64-character SHA-256
// one. The hash must be lowercase hex.
func GitHashDigest(hash string) (string, error) {
	if !isLowerHex(hash) {
		return "", fmt.Errorf("invalid Git hash %q: want lowercase hex", hash)
	}
	switch len(hash) {
	case 40:
		return "sha1:" + hash, nil
	case 64:
		return SHA256 + ":" + hash, nil
	}
	return "", fmt.Errorf("invalid Git hash %q: want 40 (SHA-1) or 64 (SHA-256) hex characters, got %d", hash, len(hash))
}

// FormatGitRevision returns the RFC-0005 revision of a Git commit. ref is the
// named pointer written before the "@", verbatim: the short name of a branch
// or tag ("main", "v1.2.0"; see ShortRefName) or the full reference given in
// spec.ref.name ("refs/pull/1/head"). Without a ref the revision is the bare
// digest ("sha1:<hash>").
func FormatGitRevision(ref, hash string) (string, error) {
	digest, err := GitHashDigest(hash)
	if err != nil {
		return "", err
	}
	if ref == "" {
		return digest, nil
	}
	if err := checkPointer(ref); err != nil {
		return "", fmt.Errorf("invalid Git reference %q: %w", ref, err)
	}
	return ref + "@" + digest, nil
}

// ShortRefName returns the short name Flux uses in revisions for a full Git
// reference: "refs/heads/main" gives "main", "refs/tags/v1.0.0" gives
// "v1.0.0", "refs/heads/feature/x" gives "feature/x". Anything with fewer
// than three slash-separated parts is returned unchanged.
func ShortRefName(ref string) string {
	parts := strings.SplitN(ref, "/", 3)
	if len(parts) == 3 && parts[0] == "refs" {
		return parts[2]
	}
	return ref
}

// ParseRevision splits an RFC-0005 revision "[<named pointer>@]<algo>:<checksum>".
// The digest is what follows the last "@"; the pointer may itself contain "@".
// Checksums of known algorithms (sha1, sha256, sha384, sha512, blake3) must be
// lowercase hex of the right length.
func ParseRevision(s string) (pointer, algo, checksum string, err error) {
	if s == "" {
		return "", "", "", fmt.Errorf("invalid revision: empty")
	}
	digest := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		pointer, digest = s[:i], s[i+1:]
		if pointer == "" {
			return "", "", "", fmt.Errorf("invalid revision %q: empty name before '@'", s)
		}
		if err := checkPointer(pointer); err != nil {
			return "", "", "", fmt.Errorf("invalid revision %q: %w", s, err)
		}
	}
	algo, checksum, ok := strings.Cut(digest, ":")
	if !ok {
		return "", "", "", fmt.Errorf("invalid revision %q: want [<name>@]<algorithm>:<checksum>", s)
	}
	if !algoPattern.MatchString(algo) {
		return "", "", "", fmt.Errorf("invalid revision %q: invalid algorithm %q", s, algo)
	}
	if !checksumPattern.MatchString(checksum) {
		return "", "", "", fmt.Errorf("invalid revision %q: invalid checksum %q", s, checksum)
	}
	if n, ok := hexLength(algo); ok && (len(checksum) != n || !isLowerHex(checksum)) {
		return "", "", "", fmt.Errorf("invalid revision %q: the %s checksum must be %d lowercase hex characters", s, algo, n)
	}
	return pointer, algo, checksum, nil
}

// RevisionDigest returns the digest part of a revision: what follows the last
// "@", or the whole string when there is no "@".
func RevisionDigest(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// SameRevision reports whether two revisions point to the same content: for
// RFC-0005 revisions it compares their digests ("main@sha1:x" and "sha1:x"
// are the same), otherwise (a Helm chart version, say) the strings.
func SameRevision(a, b string) bool {
	_, algoA, sumA, errA := ParseRevision(a)
	_, algoB, sumB, errB := ParseRevision(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return algoA == algoB && sumA == sumB
}

// checkPointer rejects named pointers with whitespace or control characters.
func checkPointer(p string) error {
	for _, r := range p {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("name %q contains whitespace or a control character", p)
		}
	}
	return nil
}
