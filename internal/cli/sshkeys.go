package cli

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshKeyPair is an SSH key pair as Flux stores it in a Git secret: the
// private key in OpenSSH PEM form (secret key `identity`) and the public key
// as an authorized_keys line (secret key `identity.pub`).
type sshKeyPair struct {
	PrivateKey []byte
	PublicKey  []byte
}

// generateKeyPair generates a new SSH key pair, as `flux create secret git`
// and `flux bootstrap git` do. algo is rsa, ecdsa or ed25519; bits is the
// RSA key size (used only for rsa, 1024 to 8192, a multiple of 8); curve is p256, p384 or
// p521 (used only for ecdsa).
func generateKeyPair(algo string, bits int, curve string) (*sshKeyPair, error) {
	var key crypto.Signer
	var err error
	switch algo {
	case "rsa":
		if bits < 1024 || bits > 8192 || bits%8 != 0 {
			return nil, fmt.Errorf("--ssh-rsa-bits must be a multiple of 8 between 1024 and 8192, got %d", bits)
		}
		key, err = rsa.GenerateKey(rand.Reader, bits)
	case "ecdsa":
		var c elliptic.Curve
		switch curve {
		case "p256":
			c = elliptic.P256()
		case "p384":
			c = elliptic.P384()
		case "p521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported --ssh-ecdsa-curve %q: use p256, p384 or p521", curve)
		}
		key, err = ecdsa.GenerateKey(c, rand.Reader)
	case "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported --ssh-key-algorithm %q: use rsa, ecdsa or ed25519", algo)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", algo, err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		return nil, fmt.Errorf("encode %s private key: %w", algo, err)
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("encode %s public key: %w", algo, err)
	}
	return &sshKeyPair{PrivateKey: pem.EncodeToMemory(block), PublicKey: ssh.MarshalAuthorizedKey(pub)}, nil
}

// loadKeyPair reads a private key given by the user (--private-key-file),
// decrypting it with password when it is protected, and derives its public
// key. The private key is kept as given.
func loadKeyPair(privateKey []byte, password string) (*sshKeyPair, error) {
	signer, err := ssh.ParsePrivateKey(privateKey)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if password == "" {
			return nil, fmt.Errorf("the private key is protected by a passphrase: give it with --password")
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(privateKey, []byte(password))
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	return &sshKeyPair{PrivateKey: privateKey, PublicKey: ssh.MarshalAuthorizedKey(signer.PublicKey())}, nil
}

// errHostKeyScanned stops the SSH handshake once the host key is known.
var errHostKeyScanned = errors.New("host key scanned")

// scanHostKey connects to the SSH server at host ("host" or "host:port";
// port 22 when missing), records the host key it presents, and returns it
// as a known_hosts line ("host ssh-ed25519 AAAA..." or "[host]:port ..." for
// other ports), as ssh-keyscan would. hostKeyAlgos, when not empty,
// restricts the host key algorithms offered (Flux's --ssh-hostkey-algos).
// No authentication is attempted.
func scanHostKey(ctx context.Context, host string, hostKeyAlgos []string) (string, error) {
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(host, "22")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("scan SSH host key of %s: %w (is the host reachable on that port?)", addr, err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	var key ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User:              "git",
		HostKeyAlgorithms: hostKeyAlgos,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			key = k
			return errHostKeyScanned
		},
	}
	c, _, _, err := ssh.NewClientConn(conn, addr, cfg)
	if c != nil {
		c.Close()
	}
	if key == nil {
		return "", fmt.Errorf("scan SSH host key of %s: %w", addr, err)
	}
	return knownHostsLine(addr, key), nil
}

// knownHostsLine formats key for addr as a known_hosts line, writing the
// host bare for port 22 and as [host]:port otherwise.
func knownHostsLine(addr string, key ssh.PublicKey) string {
	h, port, err := net.SplitHostPort(addr)
	if err != nil {
		h, port = addr, "22"
	}
	if port != "22" {
		h = "[" + h + "]:" + port
	}
	return h + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}
