package gittest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SSHKeyOptions tunes GenerateSSHKeyWith.
type SSHKeyOptions struct {
	// Passphrase encrypts PrivateKey when set.
	Passphrase string
	// Algorithm is "ed25519" (default), "ecdsa" (P-256) or "rsa" (2048 bits).
	Algorithm string
}

// SSHKey is an SSH key pair for clients, servers and commit signing.
type SSHKey struct {
	// PrivateKey is the OpenSSH-format PEM private key: the `identity` value of
	// a GitRepository secret. Encrypted with Passphrase when that is set.
	PrivateKey []byte
	// Passphrase is the `password` value that decrypts PrivateKey, or "".
	Passphrase string
	// AuthorizedKey is the public key as one authorized_keys line without a
	// trailing newline: the value of a `<name>.sshpub` verification key.
	AuthorizedKey string
	// PublicKey and Signer are the parsed forms.
	PublicKey ssh.PublicKey
	Signer    ssh.Signer

	plain []byte
	mu    sync.Mutex
	file  string
}

// GenerateSSHKey makes an unencrypted Ed25519 key.
func GenerateSSHKey(t testing.TB) *SSHKey {
	t.Helper()
	return GenerateSSHKeyWith(t, SSHKeyOptions{})
}

// GenerateSSHKeyWith makes a key with the given algorithm and passphrase.
func GenerateSSHKeyWith(t testing.TB, opts SSHKeyOptions) *SSHKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch opts.Algorithm {
	case "", "ed25519":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("gittest: unknown SSH key algorithm %q", opts.Algorithm)
	}
	if err != nil {
		t.Fatalf("gittest: generate SSH key: %v", err)
	}
	signer, err := ssh.NewSignerFromSigner(priv)
	if err != nil {
		t.Fatalf("gittest: SSH signer: %v", err)
	}
	plain, err := ssh.MarshalPrivateKey(priv, "gittest")
	if err != nil {
		t.Fatalf("gittest: marshal SSH key: %v", err)
	}
	key := &SSHKey{
		Passphrase:    opts.Passphrase,
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))),
		PublicKey:     signer.PublicKey(),
		Signer:        signer,
		plain:         pem.EncodeToMemory(plain),
	}
	key.PrivateKey = key.plain
	if opts.Passphrase != "" {
		block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "gittest", []byte(opts.Passphrase))
		if err != nil {
			t.Fatalf("gittest: encrypt SSH key: %v", err)
		}
		key.PrivateKey = pem.EncodeToMemory(block)
	}
	return key
}

// command runs a tool with stdin and returns its combined output.
func command(stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return cmd.CombinedOutput()
}
