package sops

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
)

// Entry names and suffixes recognised in a decryption Secret, as Flux reads
// them.
const (
	// AgeKeySuffix marks an entry holding age identities, one per line.
	AgeKeySuffix = ".agekey"
	// PGPKeySuffix marks an entry holding ASCII-armored OpenPGP private keys.
	PGPKeySuffix = ".asc"
	// AWSKMSEntry holds AWS credentials for KMS (not supported yet).
	AWSKMSEntry = "sops.aws-kms"
	// AzureKVEntry holds Azure credentials for Key Vault (not supported yet).
	AzureKVEntry = "sops.azure-kv"
	// GCPKMSEntry holds a GCP service account for KMS (not supported yet).
	GCPKMSEntry = "sops.gcp-kms"
	// VaultTokenEntry holds an OpenBao/Vault token (not supported yet).
	VaultTokenEntry = "sops.vault-token"
)

// cloudEntries maps the credential entries Flux reads for cloud key services
// to the master key type they serve.
var cloudEntries = map[string]keyType{
	AWSKMSEntry:     keyAWSKMS,
	AzureKVEntry:    keyAzureKV,
	GCPKMSEntry:     keyGCPKMS,
	VaultTokenEntry: keyVault,
}

// Keys are the private keys of a decryption Secret. A nil *Keys means that no
// decryption is configured: encrypted input is then an error.
type Keys struct {
	ages []age.Identity
	pgp  openpgp.EntityList
	// cloud lists the cloud credential entries present: accepted, so that a
	// Secret written for Flux loads, but they cannot decrypt anything yet.
	cloud []string
}

// KeysFromSecret reads the keys of a decryption Secret's data. Entries whose
// name ends in .agekey hold age identities (X25519 AGE-SECRET-KEY-1... or
// post-quantum AGE-SECRET-KEY-PQ-1..., one per line; blank lines and # comments
// are skipped); entries ending in .asc hold OpenPGP private keys without a
// passphrase. sops.aws-kms, sops.azure-kv, sops.gcp-kms and sops.vault-token
// are accepted but unused: documents that need them fail to decrypt with a
// "not supported yet" error. Other entries are ignored, as Flux does. Errors
// name the entry and never quote key material.
func KeysFromSecret(data map[string][]byte) (*Keys, error) {
	k := &Keys{}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		value := data[name]
		switch {
		case filepath.Ext(name) == AgeKeySuffix:
			ids, err := parseAgeIdentities(value)
			if err != nil {
				return nil, fmt.Errorf("%w: entry %q: %w", ErrInvalidKey, name, err)
			}
			k.ages = append(k.ages, ids...)
		case filepath.Ext(name) == PGPKeySuffix:
			entities, err := parsePGPKeys(value)
			if err != nil {
				return nil, fmt.Errorf("%w: entry %q: %w", ErrInvalidKey, name, err)
			}
			k.pgp = append(k.pgp, entities...)
		case cloudEntries[name] != "":
			k.cloud = append(k.cloud, name)
		}
	}
	return k, nil
}

// parseAgeIdentities reads age identities, one per line. Errors give line
// numbers, never the line.
func parseAgeIdentities(b []byte) ([]age.Identity, error) {
	var ids []age.Identity
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var (
			id  age.Identity
			err error
		)
		switch {
		case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
			id, err = age.ParseHybridIdentity(line)
		case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
			id, err = age.ParseX25519Identity(line)
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			return nil, fmt.Errorf("line %d: age plugin identities are not supported", n)
		default:
			return nil, fmt.Errorf("line %d: not an age identity (want AGE-SECRET-KEY-1... or AGE-SECRET-KEY-PQ-1...)", n)
		}
		if err != nil {
			// The parser's message can quote characters of the key.
			return nil, fmt.Errorf("line %d: malformed age identity", n)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading age identities: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no age identity found")
	}
	return ids, nil
}

// parsePGPKeys reads OpenPGP private keys, ASCII-armored or binary. Keys
// protected by a passphrase cannot be used: there is no one to type it.
func parsePGPKeys(b []byte) (openpgp.EntityList, error) {
	var (
		entities openpgp.EntityList
		err      error
	)
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		entities, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	} else {
		entities, err = openpgp.ReadKeyRing(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP key: %w", err)
	}
	private := 0
	for _, e := range entities {
		if e.PrivateKey == nil {
			continue
		}
		private++
		if e.PrivateKey.Encrypted {
			return nil, fmt.Errorf("OpenPGP key %X is protected by a passphrase; export it without one", e.PrimaryKey.Fingerprint)
		}
		for _, sub := range e.Subkeys {
			if sub.PrivateKey != nil && sub.PrivateKey.Encrypted {
				return nil, fmt.Errorf("OpenPGP key %X has a subkey protected by a passphrase; export it without one", e.PrimaryKey.Fingerprint)
			}
		}
	}
	if private == 0 {
		return nil, fmt.Errorf("holds no OpenPGP private key (only public keys)")
	}
	return entities, nil
}

// String summarises the keys without revealing them.
func (k *Keys) String() string {
	if k == nil {
		return "no decryption keys"
	}
	s := plural(len(k.ages), "age identity", "age identities") + ", " + plural(len(k.pgp), "OpenPGP key", "OpenPGP keys")
	if len(k.cloud) > 0 {
		s += ", unsupported entries " + strings.Join(k.cloud, ", ")
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
