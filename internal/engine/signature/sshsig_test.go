package signature

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

const gitPayload = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" +
	"author Signer <signer@example.com> 1700000000 +0000\n" +
	"committer Signer <signer@example.com> 1700000000 +0000\n\nrelease 1.0\n"

// TestVerifySSHKeygen checks signatures written by ssh-keygen -Y sign, the
// program git runs with gpg.format=ssh.
func TestVerifySSHKeygen(t *testing.T) {
	tests := []struct {
		name    string
		keyType string
		bits    int
		extra   []string
	}{
		{name: "ed25519", keyType: "ed25519"},
		{name: "ecdsa p256", keyType: "ecdsa", bits: 256},
		{name: "ecdsa p384", keyType: "ecdsa", bits: 384},
		{name: "ecdsa p521", keyType: "ecdsa", bits: 521},
		{name: "rsa (rsa-sha2-512)", keyType: "rsa", bits: 2048},
		{name: "ed25519 hashed with sha256", keyType: "ed25519", extra: []string{"-O", "hashalg=sha256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := newSSHKey(t, tt.keyType, tt.bits)
			sig := sshKeygenSign(t, key, "git", []byte(gitPayload), tt.extra...)
			k := mustKeyRing(t, map[string][]byte{"signer.sshpub": key.public})

			signer, err := k.Verify([]byte(gitPayload), sig)
			checkErr(t, err, nil)
			if signer != key.fingerprint {
				t.Errorf("signer %q, want the ssh-keygen fingerprint %q", signer, key.fingerprint)
			}

			_, err = k.Verify([]byte(gitPayload+"tampered\n"), sig)
			checkErr(t, err, ErrInvalidSignature, key.fingerprint, "does not match the payload")
		})
	}
}

func TestVerifySSHKeygenFailures(t *testing.T) {
	signer := newSSHKey(t, "ed25519", 0)
	other := newSSHKey(t, "ed25519", 0)
	payload := []byte(gitPayload)
	gitSig := sshKeygenSign(t, signer, "git", payload)

	tests := []struct {
		name      string
		data      map[string][]byte
		payload   []byte
		signature string
		wantErr   error
		fragments []string
	}{
		{
			name:      "signer not trusted",
			data:      map[string][]byte{"other.sshpub": other.public},
			payload:   payload,
			signature: gitSig,
			wantErr:   ErrNoMatchingKey,
			fragments: []string{signer.fingerprint, "ssh-ed25519"},
		},
		{
			name:      "only OpenPGP keys trusted",
			data:      map[string][]byte{"alice.asc": pgpPublic(t, newPGPEntity(t, "Alice", nil))},
			payload:   payload,
			signature: gitSig,
			wantErr:   ErrNoMatchingKey,
		},
		{
			name:      "tampered payload",
			data:      map[string][]byte{"signer.sshpub": signer.public},
			payload:   bytes.Replace(payload, []byte("release 1.0"), []byte("release 6.6"), 1),
			signature: gitSig,
			wantErr:   ErrInvalidSignature,
		},
		{
			name:      "signature made for another namespace",
			data:      map[string][]byte{"signer.sshpub": signer.public},
			payload:   payload,
			signature: sshKeygenSign(t, signer, "file", payload),
			wantErr:   ErrInvalidSignature,
			fragments: []string{`namespace "file"`, `"git"`},
		},
		{
			name: "second line of an entry matches",
			data: map[string][]byte{"team.sshpub": append(append([]byte{}, other.public...), signer.public...)},
			// success
			payload:   payload,
			signature: gitSig,
		},
		{
			name:      "second entry matches",
			data:      map[string][]byte{"a-other.sshpub": other.public, "b-signer.sshpub": signer.public},
			payload:   payload,
			signature: gitSig,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustKeyRing(t, tt.data)
			got, err := k.Verify(tt.payload, tt.signature)
			checkErr(t, err, tt.wantErr, tt.fragments...)
			if tt.wantErr == nil && got != signer.fingerprint {
				t.Errorf("signer %q, want %q", got, signer.fingerprint)
			}
		})
	}
}

// TestVerifySSHCrafted covers signatures ssh-keygen would not write.
func TestVerifySSHCrafted(t *testing.T) {
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edSigner := mustSigner(t, edPriv)
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner := mustSigner(t, rsaPriv)
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSigner := mustSigner(t, ecPriv)
	k := mustKeyRing(t, map[string][]byte{"keys.sshpub": bytes.Join([][]byte{
		ssh.MarshalAuthorizedKey(edSigner.PublicKey()),
		ssh.MarshalAuthorizedKey(rsaSigner.PublicKey()),
		ssh.MarshalAuthorizedKey(ecSigner.PublicKey()),
	}, nil)})
	payload := []byte(gitPayload)
	valid := buildSSHSig(t, edSigner, payload, gitSpec())
	validBlob := decodeArmor(t, valid)

	with := func(change func(*sshsigSpec)) sshsigSpec {
		s := gitSpec()
		change(&s)
		return s
	}
	tests := []struct {
		name      string
		signature string
		wantErr   error
		fragments []string
	}{
		{name: "valid ed25519 sha512", signature: valid},
		{name: "valid ed25519 sha256", signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.hashAlg = hashSHA256 }))},
		{name: "valid rsa-sha2-256", signature: buildSSHSig(t, rsaSigner, payload, with(func(s *sshsigSpec) { s.algorithm = ssh.KeyAlgoRSASHA256 }))},
		{name: "valid ecdsa", signature: buildSSHSig(t, ecSigner, payload, gitSpec())},
		{
			name:      "rsa with sha1",
			signature: buildSSHSig(t, rsaSigner, payload, with(func(s *sshsigSpec) { s.algorithm = ssh.KeyAlgoRSA })),
			wantErr:   ErrUnsupportedSignature,
			fragments: []string{"SHA-1"},
		},
		{
			name:      "version 2",
			signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.version = 2 })),
			wantErr:   ErrUnsupportedSignature,
			fragments: []string{"version 2"},
		},
		{
			name:      "md5 hash",
			signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.hashAlg = "md5" })),
			wantErr:   ErrUnsupportedSignature,
			fragments: []string{`"md5"`},
		},
		{
			name:      "empty namespace",
			signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.namespace = "" })),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"empty namespace"},
		},
		{
			name:      "long namespace is clipped in the message",
			signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.namespace = strings.Repeat("n", 500) })),
			wantErr:   ErrInvalidSignature,
			fragments: []string{strings.Repeat("n", 64) + "..."},
		},
		{
			name:      "bad magic",
			signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.magic = "SSHSIX" })),
			wantErr:   ErrMalformedSignature,
			fragments: []string{`"SSHSIG"`},
		},
		{
			name:      "trailing bytes",
			signature: buildSSHSig(t, edSigner, payload, with(func(s *sshsigSpec) { s.trailing = []byte{0, 0} })),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"2 unexpected bytes"},
		},
		{
			name:      "truncated blob",
			signature: armorSSH(validBlob[:len(validBlob)-10]),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"truncated"},
		},
		{
			name:      "only the magic",
			signature: armorSSH([]byte(sshsigMagic)),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"truncated"},
		},
		{
			name:      "corrupted signature bytes",
			signature: armorSSH(flipByte(validBlob, len(validBlob)-5)),
			wantErr:   ErrInvalidSignature,
		},
		{
			name:      "corrupted public key",
			signature: armorSSH(flipByte(validBlob, 6+4+4+2)),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"public key"},
		},
		{
			name:      "bad base64",
			signature: sshArmorStart + "\nU1NIU0lH!!!\n-----END SSH SIGNATURE-----\n",
			wantErr:   ErrMalformedSignature,
			fragments: []string{"armor"},
		},
		{
			name:      "missing end line",
			signature: strings.TrimSuffix(valid, "-----END SSH SIGNATURE-----\n"),
			wantErr:   ErrMalformedSignature,
		},
		{
			name:      "armor headers",
			signature: strings.Replace(valid, sshArmorStart+"\n", sshArmorStart+"\nComment: hi\n\n", 1),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"headers"},
		},
		{
			name:      "data after the armor",
			signature: valid + "-----BEGIN SSH SIGNATURE-----\n" + base64.StdEncoding.EncodeToString(validBlob) + "\n-----END SSH SIGNATURE-----\n",
			wantErr:   ErrMalformedSignature,
			fragments: []string{"after"},
		},
		{
			name:      "mismatched armor type",
			signature: strings.Replace(valid, "-----END SSH SIGNATURE-----", "-----END SSH SIGNATURX-----", 1),
			wantErr:   ErrMalformedSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer, err := k.Verify(payload, tt.signature)
			checkErr(t, err, tt.wantErr, tt.fragments...)
			if tt.wantErr == nil && !strings.HasPrefix(signer, "SHA256:") {
				t.Errorf("signer %q is not an SSH fingerprint", signer)
			}
			if tt.wantErr != nil && signer != "" {
				t.Errorf("signer %q returned with an error", signer)
			}
		})
	}
}

func mustSigner(t *testing.T, key any) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeArmor(t testing.TB, armored string) []byte {
	t.Helper()
	block, _ := pem.Decode([]byte(armored))
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

func flipByte(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0xff
	return out
}
