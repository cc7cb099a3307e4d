// Package signature verifies the OpenPGP and SSH signatures of Git commits
// and tags against a set of trusted public keys, as GitRepository
// spec.verify does.
//
// The trusted keys come from the data of a Secret: entries whose name ends in
// ".sshpub" hold SSH public keys in authorized_keys format (one per line),
// every other entry (".asc" or no suffix) holds ASCII armored OpenPGP public
// keys. A signature is accepted only when it was made by one of those keys.
// SSH signatures are the sshsig format git writes with gpg.format=ssh, in the
// "git" namespace.
package signature

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"golang.org/x/crypto/ssh"
)

const (
	// SSHKeySuffix marks a Secret entry holding SSH public keys.
	SSHKeySuffix = ".sshpub"
	// PGPKeySuffix marks a Secret entry holding OpenPGP public keys; entries
	// without a known suffix are read as OpenPGP keys too.
	PGPKeySuffix = ".asc"

	pgpArmorStart = "-----BEGIN PGP "
	sshArmorStart = "-----BEGIN SSH SIGNATURE-----"
	pgpSigStart   = "-----BEGIN PGP SIGNATURE-----"

	// maxSignatureSize bounds the armored signature text. Real signatures
	// are a few KiB at most (RSA 16384 bits is about 3 KiB armored).
	maxSignatureSize = 64 << 10
)

// KeyRing holds the trusted public keys: OpenPGP entities and SSH keys.
// It is safe for concurrent use once built.
type KeyRing struct {
	pgp openpgp.EntityList
	ssh []sshKey
	now func() time.Time
}

type sshKey struct {
	entry string
	key   ssh.PublicKey
	wire  []byte
}

// Option configures a KeyRing.
type Option func(*KeyRing)

// WithClock sets the clock used to decide whether an OpenPGP key or
// signature has expired. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(k *KeyRing) { k.now = now }
}

// KeyRingFromSecret builds a KeyRing from the data of a verification Secret.
// Every entry must hold at least one valid public key; errors name the bad
// entry (and line for SSH keys) but never repeat its content.
func KeyRingFromSecret(data map[string][]byte, opts ...Option) (*KeyRing, error) {
	k := &KeyRing{now: time.Now}
	for _, opt := range opts {
		opt(k)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the secret has no entries", ErrNoKeys)
	}
	for _, name := range slices.Sorted(maps.Keys(data)) {
		value := data[name]
		if len(bytes.TrimSpace(value)) == 0 {
			return nil, fmt.Errorf("%w %q: the entry is empty", ErrInvalidKey, name)
		}
		if strings.HasSuffix(name, SSHKeySuffix) {
			keys, err := parseAuthorizedKeys(name, value)
			if err != nil {
				return nil, err
			}
			k.ssh = append(k.ssh, keys...)
			continue
		}
		entities, err := parseArmoredKeys(name, value)
		if err != nil {
			return nil, err
		}
		k.pgp = append(k.pgp, entities...)
	}
	return k, nil
}

// Len returns the number of trusted keys: OpenPGP entities plus SSH keys.
func (k *KeyRing) Len() int {
	return len(k.pgp) + len(k.ssh)
}

// Verify checks that signature, an ASCII armored OpenPGP signature or an
// armored SSH signature (sshsig, namespace "git"), was made over payload by
// one of the trusted keys. It returns the signer: the OpenPGP primary key ID
// (16 upper-case hex digits) or the SSH key fingerprint ("SHA256:...").
func (k *KeyRing) Verify(payload []byte, signature string) (string, error) {
	sig := strings.TrimSpace(signature)
	switch {
	case sig == "":
		return "", ErrUnsigned
	case len(sig) > maxSignatureSize:
		return "", fmt.Errorf("%w: signature is larger than %d KiB", ErrMalformedSignature, maxSignatureSize>>10)
	case strings.HasPrefix(sig, pgpSigStart):
		return k.verifyPGP(payload, sig)
	case strings.HasPrefix(sig, sshArmorStart):
		return k.verifySSH(payload, sig)
	case strings.HasPrefix(sig, "-----BEGIN SIGNED MESSAGE-----"):
		return "", fmt.Errorf("%w: X.509 (S/MIME) signatures are not supported, only OpenPGP and SSH", ErrUnsupportedSignature)
	default:
		return "", fmt.Errorf("%w: not an armored OpenPGP or SSH signature", ErrUnsupportedSignature)
	}
}

// parseAuthorizedKeys reads SSH public keys in authorized_keys format: one key
// per line, blank lines and '#' comments ignored, options allowed.
func parseAuthorizedKeys(name string, value []byte) ([]sshKey, error) {
	if bytes.Contains(value, []byte(pgpArmorStart)) {
		return nil, fmt.Errorf("%w %q: holds an OpenPGP block, not SSH public keys; use the %s suffix for OpenPGP keys",
			ErrInvalidKey, name, PGPKeySuffix)
	}
	var keys []sshKey
	for i, line := range bytes.Split(value, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		// ParseAuthorizedKey skips lines it cannot parse, so it is given one
		// line at a time to make every bad line an error.
		key, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%w %q: line %d is not an SSH public key in authorized_keys format", ErrInvalidKey, name, i+1)
		}
		keys = append(keys, sshKey{entry: name, key: key, wire: key.Marshal()})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q: no SSH public key found", ErrInvalidKey, name)
	}
	return keys, nil
}

// parseArmoredKeys reads every ASCII armored OpenPGP key block in value.
func parseArmoredKeys(name string, value []byte) (openpgp.EntityList, error) {
	text := string(value)
	if !strings.Contains(text, pgpArmorStart) {
		hint := "export it with 'gpg --export --armor <key-id>'"
		if strings.HasPrefix(strings.TrimSpace(text), "ssh-") || strings.HasPrefix(strings.TrimSpace(text), "ecdsa-") {
			hint = "it looks like an SSH public key; name the entry with the " + SSHKeySuffix + " suffix"
		}
		return nil, fmt.Errorf("%w %q: no ASCII armored OpenPGP public key block found; %s", ErrInvalidKey, name, hint)
	}
	var entities openpgp.EntityList
	blocks := strings.Split(text, pgpArmorStart)
	for i, block := range blocks[1:] {
		list, err := openpgp.ReadArmoredKeyRing(strings.NewReader(pgpArmorStart + block))
		if err != nil {
			return nil, fmt.Errorf("%w %q: armored block %d is not a valid OpenPGP key: %v", ErrInvalidKey, name, i+1, err)
		}
		entities = append(entities, list...)
	}
	return entities, nil
}
