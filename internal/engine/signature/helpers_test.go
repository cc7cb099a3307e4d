package signature

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"golang.org/x/crypto/ssh"
)

// isTyped reports whether err wraps one of this package's errors.
func isTyped(err error) bool {
	typed := []error{
		ErrUnsigned, ErrNoMatchingKey, ErrInvalidSignature, ErrMalformedSignature,
		ErrUnsupportedSignature, ErrInvalidKey, ErrNoKeys,
	}
	for _, want := range typed {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// tool returns the path of a binary the test needs; the test fails when it is
// missing because these tests exist to check the real formats.
func tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for this test: %v", name, err)
	}
	return path
}

// run runs a command and returns its standard output.
func run(t testing.TB, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// sshKeyPair is a key written by ssh-keygen.
type sshKeyPair struct {
	private     string // path of the private key file
	public      []byte // authorized_keys line
	fingerprint string // as ssh-keygen -l prints it
}

// newSSHKey generates a key with ssh-keygen; bits 0 means the default size.
func newSSHKey(t testing.TB, keyType string, bits int) sshKeyPair {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id_"+keyType)
	args := []string{"-q", "-t", keyType, "-N", "", "-C", "signer@example.com", "-f", path}
	if bits > 0 {
		args = append(args, "-b", strconv.Itoa(bits))
	}
	run(t, "", nil, "ssh-keygen", args...)
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	// "256 SHA256:xxxx comment (ED25519)"
	fields := strings.Fields(string(run(t, "", nil, "ssh-keygen", "-l", "-E", "sha256", "-f", path+".pub")))
	if len(fields) < 2 {
		t.Fatalf("unexpected ssh-keygen -l output %q", fields)
	}
	return sshKeyPair{private: path, public: pub, fingerprint: fields[1]}
}

// sshKeygenSign signs payload the way git does with gpg.format=ssh.
func sshKeygenSign(t testing.TB, key sshKeyPair, namespace string, payload []byte, extra ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(file, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-Y", "sign", "-n", namespace, "-f", key.private}, extra...)
	run(t, "", nil, "ssh-keygen", append(args, file)...)
	sig, err := os.ReadFile(file + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	return string(sig)
}

// sshsigSpec describes an sshsig blob built by buildSSHSig, so tests can make
// signatures ssh-keygen would never write.
type sshsigSpec struct {
	magic     string
	version   uint32
	namespace string
	hashAlg   string
	algorithm string // signature algorithm; "" lets the signer choose
	trailing  []byte // bytes appended to the blob
}

func gitSpec() sshsigSpec {
	return sshsigSpec{magic: sshsigMagic, version: sshsigVersion, namespace: gitNamespace, hashAlg: hashSHA512}
}

// buildSSHSig signs payload with signer and armors an sshsig blob per spec.
func buildSSHSig(t testing.TB, signer ssh.Signer, payload []byte, spec sshsigSpec) string {
	t.Helper()
	var digest []byte
	if spec.hashAlg == hashSHA256 {
		sum := sha256.Sum256(payload)
		digest = sum[:]
	} else {
		sum := sha512.Sum512(payload)
		digest = sum[:]
	}
	signed := []byte(spec.magic)
	signed = appendSSHString(signed, []byte(spec.namespace))
	signed = appendSSHString(signed, nil)
	signed = appendSSHString(signed, []byte(spec.hashAlg))
	signed = appendSSHString(signed, digest)

	var sig *ssh.Signature
	var err error
	if spec.algorithm != "" {
		sig, err = signer.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, signed, spec.algorithm)
	} else {
		sig, err = signer.Sign(rand.Reader, signed)
	}
	if err != nil {
		t.Fatal(err)
	}
	sigField := appendSSHString(nil, []byte(sig.Format))
	sigField = appendSSHString(sigField, sig.Blob)
	sigField = append(sigField, sig.Rest...)

	blob := []byte(spec.magic)
	blob = append(blob, byte(spec.version>>24), byte(spec.version>>16), byte(spec.version>>8), byte(spec.version))
	blob = appendSSHString(blob, signer.PublicKey().Marshal())
	blob = appendSSHString(blob, []byte(spec.namespace))
	blob = appendSSHString(blob, nil)
	blob = appendSSHString(blob, []byte(spec.hashAlg))
	blob = appendSSHString(blob, sigField)
	blob = append(blob, spec.trailing...)
	return armorSSH(blob)
}

func armorSSH(blob []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: sshsigPEMType, Bytes: blob}))
}

// newPGPEntity makes an OpenPGP key with go-crypto.
func newPGPEntity(t testing.TB, name string, config *packet.Config) *openpgp.Entity {
	t.Helper()
	if config == nil {
		config = &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	}
	e, err := openpgp.NewEntity(name, "", strings.ToLower(name)+"@example.com", config)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// pgpPublic exports the public part of e, ASCII armored.
func pgpPublic(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pgpSign makes an armored detached signature, as gpg does for git.
func pgpSign(t testing.TB, e *openpgp.Entity, payload []byte, config *packet.Config) string {
	t.Helper()
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, e, bytes.NewReader(payload), config); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func mustKeyRing(t testing.TB, data map[string][]byte, opts ...Option) *KeyRing {
	t.Helper()
	k, err := KeyRingFromSecret(data, opts...)
	if err != nil {
		t.Fatalf("KeyRingFromSecret: %v", err)
	}
	return k
}

// checkErr asserts err wraps want (nil means success) and mentions every
// fragment.
func checkErr(t testing.TB, err, want error, fragments ...string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want one wrapping %q", err, want)
	}
	t.Logf("error: %v", err)
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
