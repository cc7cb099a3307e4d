package git

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// Signer signs a commit: it returns the armored signature of the encoded
// commit, as go-git's CommitOptions.Signer expects.
type Signer interface {
	Sign(message io.Reader) ([]byte, error)
}

// sshSigner makes sshsig signatures (OpenSSH's PROTOCOL.sshsig) in the
// "git" namespace with SHA-512, as `git commit -S` with gpg.format=ssh.
type sshSigner struct{ key ssh.Signer }

// LoadSSHSigningKey reads an OpenSSH or PEM private key, decrypting it with
// passphrase when it is protected, for signing commits with SSH.
func LoadSSHSigningKey(privateKey []byte, passphrase string) (Signer, error) {
	key, err := ssh.ParsePrivateKey(privateKey)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == "" {
			return nil, errors.New("the SSH signing key is protected by a passphrase: give it")
		}
		key, err = ssh.ParsePrivateKeyWithPassphrase(privateKey, []byte(passphrase))
	}
	if err != nil {
		return nil, fmt.Errorf("read SSH signing key: %w", err)
	}
	return &sshSigner{key: key}, nil
}

func sshString(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

func (s *sshSigner) Sign(message io.Reader) ([]byte, error) {
	h := sha512.New()
	if _, err := io.Copy(h, message); err != nil {
		return nil, err
	}
	const namespace, hashAlg = "git", "sha512"
	signed := []byte("SSHSIG")
	for _, field := range [][]byte{[]byte(namespace), nil, []byte(hashAlg), h.Sum(nil)} {
		signed = append(signed, sshString(field)...)
	}
	var sig *ssh.Signature
	var err error
	if as, ok := s.key.(ssh.AlgorithmSigner); ok && s.key.PublicKey().Type() == ssh.KeyAlgoRSA {
		// RSA signs with SHA-512, not the SHA-1 of plain ssh-rsa.
		sig, err = as.SignWithAlgorithm(rand.Reader, signed, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = s.key.Sign(rand.Reader, signed)
	}
	if err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	blob := binary.BigEndian.AppendUint32([]byte("SSHSIG"), 1)
	for _, field := range [][]byte{s.key.PublicKey().Marshal(), []byte(namespace), nil, []byte(hashAlg), ssh.Marshal(sig)} {
		blob = append(blob, sshString(field)...)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "SSH SIGNATURE", Bytes: blob}), nil
}
