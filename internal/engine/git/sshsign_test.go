package git

import (
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/engine/signature"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// Signatures of every key type verify with the signature package, which
// checks sshsig as git verifies it; a protected key needs its passphrase.
func TestSSHSigner(t *testing.T) {
	payload := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b> 1 +0000\n\nmessage\n")
	for _, algo := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(algo, func(t *testing.T) {
			key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Algorithm: algo, Passphrase: "pw"})
			if _, err := LoadSSHSigningKey(key.PrivateKey, ""); err == nil || !strings.Contains(err.Error(), "protected by a passphrase") {
				t.Fatalf("without passphrase: %v", err)
			}
			if _, err := LoadSSHSigningKey(key.PrivateKey, "wrong"); err == nil {
				t.Fatal("wrong passphrase accepted")
			}
			s, err := LoadSSHSigningKey(key.PrivateKey, "pw")
			if err != nil {
				t.Fatal(err)
			}
			sig, err := s.Sign(strings.NewReader(string(payload)))
			if err != nil {
				t.Fatal(err)
			}
			ring, err := signature.KeyRingFromSecret(map[string][]byte{"author" + signature.SSHKeySuffix: []byte(key.AuthorizedKey)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ring.Verify(payload, string(sig)); err != nil {
				t.Errorf("verify: %v\n%s", err, sig)
			}
			if _, err := ring.Verify(append(payload, 'x'), string(sig)); err == nil {
				t.Error("a changed payload verified")
			}
		})
	}
}
