package signature

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/pem"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// The sshsig format, as OpenSSH's PROTOCOL.sshsig describes it. The armored
// blob is:
//
//	byte[6]  "SSHSIG"
//	uint32   version (1)
//	string   public key
//	string   namespace
//	string   reserved
//	string   hash algorithm ("sha256" or "sha512")
//	string   signature
//
// and the key signs: "SSHSIG", namespace, reserved, hash algorithm and the
// hash of the message, each but the first as an SSH string.
const (
	sshsigMagic    = "SSHSIG"
	sshsigVersion  = 1
	sshsigPEMType  = "SSH SIGNATURE"
	gitNamespace   = "git"
	hashSHA256     = "sha256"
	hashSHA512     = "sha512"
	rsaSHA1SigAlgo = "ssh-rsa"
)

// sshSignature is a decoded sshsig blob.
type sshSignature struct {
	version   uint32
	publicKey ssh.PublicKey
	namespace string
	reserved  []byte
	hashAlg   string
	signature *ssh.Signature
}

// verifySSH checks an armored sshsig signature made in the git namespace.
func (k *KeyRing) verifySSH(payload []byte, armored string) (string, error) {
	sig, err := parseSSHSignature(armored)
	if err != nil {
		return "", err
	}
	fingerprint := ssh.FingerprintSHA256(sig.publicKey)
	if sig.namespace != gitNamespace {
		return "", fmt.Errorf("%w: SSH signature by key %s is for namespace %q, Git signatures use %q",
			ErrInvalidSignature, fingerprint, clip(sig.namespace), gitNamespace)
	}
	if sig.signature.Format == rsaSHA1SigAlgo {
		return "", fmt.Errorf("%w: SSH signature by key %s uses RSA with SHA-1 (ssh-rsa); sign with rsa-sha2-256 or rsa-sha2-512",
			ErrUnsupportedSignature, fingerprint)
	}
	key, ok := k.findSSHKey(sig.publicKey)
	if !ok {
		return "", fmt.Errorf("%w: signed with SSH key %s (%s)", ErrNoMatchingKey, fingerprint, sig.publicKey.Type())
	}
	if err := key.Verify(sig.signedData(payload), sig.signature); err != nil {
		return "", fmt.Errorf("%w: SSH signature by key %s does not match the payload: %v", ErrInvalidSignature, fingerprint, err)
	}
	return fingerprint, nil
}

func (k *KeyRing) findSSHKey(pub ssh.PublicKey) (ssh.PublicKey, bool) {
	wire := pub.Marshal()
	for _, trusted := range k.ssh {
		if bytes.Equal(trusted.wire, wire) {
			return trusted.key, true
		}
	}
	return nil, false
}

// signedData builds the blob the key signed: the magic, the namespace, the
// reserved field, the hash algorithm and the hash of the payload.
func (s *sshSignature) signedData(payload []byte) []byte {
	var digest []byte
	switch s.hashAlg {
	case hashSHA256:
		sum := sha256.Sum256(payload)
		digest = sum[:]
	default: // hashSHA512, the only other value parseSSHSignature accepts
		sum := sha512.Sum512(payload)
		digest = sum[:]
	}
	out := []byte(sshsigMagic)
	out = appendSSHString(out, []byte(s.namespace))
	out = appendSSHString(out, s.reserved)
	out = appendSSHString(out, []byte(s.hashAlg))
	return appendSSHString(out, digest)
}

// parseSSHSignature decodes an armored sshsig signature. It checks the
// structure only; verifySSH checks the namespace, key and signature.
func parseSSHSignature(armored string) (*sshSignature, error) {
	block, rest := pem.Decode([]byte(armored))
	if block == nil {
		return nil, fmt.Errorf("%w: invalid SSH signature armor", ErrMalformedSignature)
	}
	if block.Type != sshsigPEMType {
		return nil, fmt.Errorf("%w: armor type is %q, want %q", ErrMalformedSignature, clip(block.Type), sshsigPEMType)
	}
	if len(block.Headers) > 0 {
		return nil, fmt.Errorf("%w: SSH signature armor must not have headers", ErrMalformedSignature)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%w: unexpected data after the SSH signature armor", ErrMalformedSignature)
	}
	return parseSSHSignatureBlob(block.Bytes)
}

// parseSSHSignatureBlob decodes the binary sshsig blob.
func parseSSHSignatureBlob(blob []byte) (*sshSignature, error) {
	r := &wireReader{data: blob}
	if magic := r.bytes(len(sshsigMagic)); string(magic) != sshsigMagic {
		return nil, fmt.Errorf("%w: the SSH signature does not start with %q", ErrMalformedSignature, sshsigMagic)
	}
	s := &sshSignature{}
	s.version = r.uint32()
	if r.err == nil && s.version != sshsigVersion {
		return nil, fmt.Errorf("%w: SSH signature version %d, want %d", ErrUnsupportedSignature, s.version, sshsigVersion)
	}
	pub := r.string("public key")
	s.namespace = string(r.string("namespace"))
	s.reserved = r.string("reserved")
	s.hashAlg = string(r.string("hash algorithm"))
	sigBlob := r.string("signature")
	if r.err != nil {
		return nil, r.err
	}
	if r.remaining() > 0 {
		return nil, fmt.Errorf("%w: %d unexpected bytes after the SSH signature", ErrMalformedSignature, r.remaining())
	}
	if s.namespace == "" {
		return nil, fmt.Errorf("%w: the SSH signature has an empty namespace", ErrMalformedSignature)
	}
	if s.hashAlg != hashSHA256 && s.hashAlg != hashSHA512 {
		return nil, fmt.Errorf("%w: SSH signature hash algorithm %q, want %q or %q",
			ErrUnsupportedSignature, clip(s.hashAlg), hashSHA256, hashSHA512)
	}
	key, err := ssh.ParsePublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid public key in the SSH signature: %v", ErrMalformedSignature, err)
	}
	s.publicKey = key
	sig, err := parseSSHSignatureField(sigBlob)
	if err != nil {
		return nil, err
	}
	s.signature = sig
	return s, nil
}

// parseSSHSignatureField decodes the SSH signature encoding: string format,
// string blob, and for security keys (sk-*) trailing flags and counter.
func parseSSHSignatureField(data []byte) (*ssh.Signature, error) {
	r := &wireReader{data: data}
	format := r.string("signature format")
	blob := r.string("signature blob")
	if r.err != nil {
		return nil, r.err
	}
	if len(format) == 0 || len(blob) == 0 {
		return nil, fmt.Errorf("%w: the SSH signature has an empty format or blob", ErrMalformedSignature)
	}
	sig := &ssh.Signature{Format: string(format), Blob: blob}
	if rest := r.bytes(r.remaining()); len(rest) > 0 {
		sig.Rest = rest
	}
	return sig, nil
}

// wireReader reads SSH wire encoding (RFC 4251 section 5). The first error
// sticks; later reads return nothing.
type wireReader struct {
	data []byte
	err  error
}

func (r *wireReader) remaining() int { return len(r.data) }

func (r *wireReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.data) {
		r.err = fmt.Errorf("%w: the SSH signature is truncated", ErrMalformedSignature)
		return nil
	}
	out := r.data[:n]
	r.data = r.data[n:]
	return out
}

func (r *wireReader) uint32() uint32 {
	b := r.bytes(4)
	if r.err != nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *wireReader) string(field string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.data) < 4 {
		r.err = fmt.Errorf("%w: the SSH signature is truncated at its %s field", ErrMalformedSignature, field)
		return nil
	}
	n := binary.BigEndian.Uint32(r.data)
	if uint64(n) > uint64(len(r.data)-4) {
		r.err = fmt.Errorf("%w: the SSH signature is truncated in its %s field", ErrMalformedSignature, field)
		return nil
	}
	out := r.data[4 : 4+n]
	r.data = r.data[4+n:]
	return out
}

// appendSSHString appends s as an SSH string: a uint32 length then the bytes.
func appendSSHString(out, s []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
	return append(out, s...)
}
