package sops

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	agearmor "filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
)

// dataKeySize is the size of a SOPS data key (AES-256).
const dataKeySize = 32

// maxWrappedKey bounds what a master key may decrypt to: a data key or a
// Shamir share of one.
const maxWrappedKey = 1024

// dataKey recovers a document's data key with the configured keys: from any
// key of the single key group, or by combining the shares of enough groups.
func (k *Keys) dataKey(md *metadata) ([]byte, error) {
	var (
		parts   [][]byte
		reasons []string
	)
	onlyUnsupported := true
	for i, group := range md.groups {
		part, why, unsupported := k.decryptGroup(group)
		if part != nil {
			parts = append(parts, part)
			continue
		}
		onlyUnsupported = onlyUnsupported && unsupported
		if len(md.groups) > 1 {
			why = fmt.Sprintf("key group %d: %s", i+1, why)
		}
		reasons = append(reasons, why)
	}
	need := 1
	if len(md.groups) > 1 {
		need = md.threshold
		if need <= 0 || need > len(md.groups) {
			need = len(md.groups)
		}
	}
	if len(parts) < need {
		base := ErrNoMatchingKey
		if len(parts) == 0 && onlyUnsupported {
			// Only cloud keys could have worked: say so rather than blame
			// the configured keys.
			base = ErrUnsupportedKeyType
		}
		msg := strings.Join(reasons, "; ")
		if len(md.groups) > 1 {
			msg = fmt.Sprintf("need %d of %d key groups, recovered %d: %s", need, len(md.groups), len(parts), msg)
		}
		return nil, fmt.Errorf("%w (decryption secret holds %s): %s", base, k, msg)
	}
	key := parts[0]
	if len(md.groups) > 1 {
		var err error
		if key, err = combineShares(parts); err != nil {
			return nil, fmt.Errorf("%w: combining the key group shares: %w", ErrIntegrity, err)
		}
	}
	if len(key) != dataKeySize {
		return nil, fmt.Errorf("%w: the recovered data key has %d bytes, want %d", ErrIntegrity, len(key), dataKeySize)
	}
	return key, nil
}

// decryptGroup returns the data key (or share) from the first key of the
// group that decrypts it, trying age keys first, then OpenPGP. Otherwise it
// says why each key failed, and whether the group holds only key types that
// are not supported yet.
func (k *Keys) decryptGroup(group []masterKey) (part []byte, why string, onlyUnsupported bool) {
	var reasons []string
	for _, typ := range []keyType{keyAge, keyPGP} {
		for _, mk := range group {
			if mk.typ != typ {
				continue
			}
			part, err := k.decryptMasterKey(mk)
			if err == nil {
				return part, "", false
			}
			reasons = append(reasons, fmt.Sprintf("%s recipient %s: %v", mk.typ, shortID(mk.id), err))
		}
	}
	supported := len(reasons)
	for _, mk := range group {
		if mk.typ != keyAge && mk.typ != keyPGP {
			reasons = append(reasons, fmt.Sprintf("%s key %s: not supported yet", mk.typ, shortID(mk.id)))
		}
	}
	why = strings.Join(reasons, "; ")
	if supported == 0 {
		why += " (add an age or OpenPGP recipient to the file with sops updatekeys, and its private key to the decryption secret)"
	}
	return nil, why, supported == 0
}

func (k *Keys) decryptMasterKey(mk masterKey) ([]byte, error) {
	switch mk.typ {
	case keyAge:
		if len(k.ages) == 0 {
			return nil, errors.New("no age identity configured")
		}
		r, err := age.Decrypt(agearmor.NewReader(strings.NewReader(mk.enc)), k.ages...)
		if err != nil {
			var noMatch *age.NoIdentityMatchError
			if errors.As(err, &noMatch) {
				return nil, fmt.Errorf("no match among the %s configured", plural(len(k.ages), "age identity", "age identities"))
			}
			return nil, fmt.Errorf("cannot decrypt the age-wrapped data key: %w", err)
		}
		return readWrapped(r)
	case keyPGP:
		if len(k.pgp) == 0 {
			return nil, errors.New("no OpenPGP key configured")
		}
		block, err := pgparmor.Decode(strings.NewReader(mk.enc))
		if err != nil {
			return nil, fmt.Errorf("the OpenPGP-wrapped data key is not armored: %w", err)
		}
		msg, err := openpgp.ReadMessage(block.Body, k.pgp, nil, nil)
		if err != nil {
			if errors.Is(err, pgperrors.ErrKeyIncorrect) {
				return nil, fmt.Errorf("no match among the %s configured", plural(len(k.pgp), "OpenPGP key", "OpenPGP keys"))
			}
			return nil, fmt.Errorf("cannot decrypt the OpenPGP-wrapped data key: %w", err)
		}
		return readWrapped(msg.UnverifiedBody)
	}
	return nil, fmt.Errorf("%s is not supported yet", mk.typ)
}

func readWrapped(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxWrappedKey+1))
	if err != nil {
		return nil, fmt.Errorf("reading the wrapped data key: %w", err)
	}
	if len(b) > maxWrappedKey {
		return nil, fmt.Errorf("the wrapped data key is too large")
	}
	return b, nil
}

// shortID abbreviates long public identifiers (post-quantum age recipients
// run to two thousand characters).
func shortID(id string) string {
	if id == "" {
		return "(unnamed)"
	}
	if len(id) > 120 {
		return id[:40] + "..." + id[len(id)-8:]
	}
	return id
}
