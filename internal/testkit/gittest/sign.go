package gittest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// SignWith selects the key that signs a commit or tag: set exactly one field.
// The zero value signs nothing.
type SignWith struct {
	// PGP signs with an OpenPGP key, as `git commit -S` with gpg does.
	PGP *PGPKey
	// SSH signs with an SSH key through git's gpg.format=ssh (ssh-keygen -Y sign).
	SSH *SSHKey
}

// PGPKey is an OpenPGP signing key made in Go.
type PGPKey struct {
	// Entity holds the private key.
	Entity *openpgp.Entity
	// PublicKey is the ASCII-armored public key: the value of a `<name>.asc`
	// key in a GitRepository verify.secretRef Secret.
	PublicKey []byte
	// KeyID is the 16-hex-digit key ID of the signing key, upper case.
	KeyID string
}

// GeneratePGPKey makes an Ed25519 OpenPGP key for name <email>.
func GeneratePGPKey(t testing.TB, name, email string) *PGPKey {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	entity, err := openpgp.NewEntity(name, "gittest", email, cfg)
	if err != nil {
		t.Fatalf("gittest: generate OpenPGP key: %v", err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("gittest: armor OpenPGP key: %v", err)
	}
	if err := entity.Serialize(w); err != nil {
		t.Fatalf("gittest: serialize OpenPGP key: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("gittest: armor OpenPGP key: %v", err)
	}
	return &PGPKey{
		Entity:    entity,
		PublicKey: buf.Bytes(),
		KeyID:     fmt.Sprintf("%016X", entity.PrimaryKey.KeyId),
	}
}

// sign returns an ASCII-armored detached signature of payload.
func (k *PGPKey) sign(t testing.TB, payload []byte) string {
	t.Helper()
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, k.Entity, bytes.NewReader(payload), nil); err != nil {
		t.Fatalf("gittest: OpenPGP sign: %v", err)
	}
	out := sig.String()
	if out[len(out)-1] != '\n' {
		out += "\n"
	}
	return out
}

// gitSigningConfig returns the git options that make `-S` / `tag -s` sign
// with this key through ssh-keygen.
func (k *SSHKey) gitSigningConfig(t testing.TB) []string {
	t.Helper()
	return []string{"-c", "gpg.format=ssh", "-c", "user.signingKey=" + k.signingFile(t)}
}

// signingFile writes the unencrypted private key where ssh-keygen can read
// it (mode 0600) and returns its path.
func (k *SSHKey) signingFile(t testing.TB) string {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.file != "" {
		return k.file
	}
	file := filepath.Join(t.TempDir(), "id_signing")
	if err := os.WriteFile(file, k.plain, 0o600); err != nil {
		t.Fatalf("gittest: write SSH signing key: %v", err)
	}
	k.file = file
	return file
}

// TagSigned creates an annotated tag name on hash with message msg, signed
// by key, and returns the tag object's hash.
func (r *Repo) TagSigned(name, hash, msg string, key SignWith) string {
	r.t.Helper()
	if msg == "" || msg[len(msg)-1] != '\n' {
		msg += "\n"
	}
	r.mu.Lock()
	env := r.dateEnv()
	r.mu.Unlock()
	switch {
	case key.SSH != nil:
		args := append(key.SSH.gitSigningConfig(r.t), "tag", "--sign", "--message="+msg, name, hash)
		r.run(nil, env, args...)
	case key.PGP != nil:
		date := env[1][len("GIT_COMMITTER_DATE="):]
		payload := fmt.Sprintf("object %s\ntype commit\ntag %s\ntagger %s <%s> %s\n\n%s",
			hash, name, AuthorName, AuthorEmail, date, msg)
		object := payload + key.PGP.sign(r.t, []byte(payload))
		tag := r.run([]byte(object), nil, "mktag")
		r.run(nil, nil, "update-ref", "refs/tags/"+name, tag)
	default:
		r.run(nil, env, "tag", "--annotate", "--message="+msg, name, hash)
	}
	return r.resolve("refs/tags/" + name)
}

// VerifySSHSignature checks signature over payload with ssh-keygen -Y verify,
// the check `git verify-commit` runs for gpg.format=ssh, trusting only key.
// It returns ssh-keygen's error output when verification fails.
func VerifySSHSignature(t testing.TB, key *SSHKey, payload []byte, signature string) error {
	t.Helper()
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed_signers")
	sigFile := filepath.Join(dir, "payload.sig")
	line := AuthorEmail + " " + key.AuthorizedKey + "\n"
	if err := os.WriteFile(allowed, []byte(line), 0o600); err != nil {
		t.Fatalf("gittest: write allowed signers: %v", err)
	}
	if err := os.WriteFile(sigFile, []byte(signature), 0o600); err != nil {
		t.Fatalf("gittest: write signature: %v", err)
	}
	return runTool(payload, "ssh-keygen", "-Y", "verify", "-f", allowed, "-I", AuthorEmail, "-n", "git", "-s", sigFile)
}

// VerifyPGPSignature checks an armored detached signature over payload
// against the armored public keys, as gpg does for `git verify-commit`.
func VerifyPGPSignature(publicKeys []byte, payload []byte, signature string) error {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(publicKeys))
	if err != nil {
		return fmt.Errorf("read public keys: %w", err)
	}
	_, err = openpgp.CheckArmoredDetachedSignature(ring, bytes.NewReader(payload), bytes.NewReader([]byte(signature)), nil)
	return err
}

func runTool(stdin []byte, name string, args ...string) error {
	out, err := command(stdin, name, args...)
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strconv.Quote(string(out)))
	}
	return nil
}
