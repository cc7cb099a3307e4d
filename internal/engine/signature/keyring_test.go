package signature

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// authorizedKey returns a fresh ed25519 key as an authorized_keys line.
func authorizedKey(t *testing.T) []byte {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(sshPub)
}

func TestKeyRingFromSecret(t *testing.T) {
	alice := pgpPublic(t, newPGPEntity(t, "Alice", nil))
	bob := pgpPublic(t, newPGPEntity(t, "Bob", nil))
	sshA, sshB := authorizedKey(t), authorizedKey(t)
	// secretLooking stands for content that must never be echoed in errors.
	const secretLooking = "c2VjcmV0LWtleS1tYXRlcmlhbA"

	tests := []struct {
		name      string
		data      map[string][]byte
		wantErr   error
		fragments []string
		wantPGP   int
		wantSSH   int
	}{
		{
			name:    "one OpenPGP key with the .asc suffix",
			data:    map[string][]byte{"alice.asc": alice},
			wantPGP: 1,
		},
		{
			name:    "unsuffixed entries are OpenPGP keys",
			data:    map[string][]byte{"alice": alice, "bob.gpg": bob},
			wantPGP: 2,
		},
		{
			name:    "two armored blocks in one entry",
			data:    map[string][]byte{"team.asc": append(append([]byte{}, alice...), bob...)},
			wantPGP: 2,
		},
		{
			name: "SSH keys with comments, blank lines and options",
			data: map[string][]byte{"team.sshpub": bytes.Join([][]byte{
				[]byte("# the release team"),
				sshA,
				[]byte(""),
				append([]byte(`no-pty,from="10.0.0.1" `), sshB...),
			}, []byte("\n"))},
			wantSSH: 2,
		},
		{
			name:    "OpenPGP and SSH entries together",
			data:    map[string][]byte{"alice.asc": alice, "ci.sshpub": sshA},
			wantPGP: 1,
			wantSSH: 1,
		},
		{
			name:    "no entries",
			data:    map[string][]byte{},
			wantErr: ErrNoKeys,
		},
		{
			name:      "empty entry",
			data:      map[string][]byte{"alice.asc": alice, "empty.asc": []byte(" \n")},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"empty.asc"`, "empty"},
		},
		{
			name:      "bad SSH line is named by entry and line",
			data:      map[string][]byte{"ci.sshpub": append(append([]byte{}, sshA...), []byte("ssh-ed25519 "+secretLooking+"\n")...)},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"ci.sshpub"`, "line 2", "authorized_keys"},
		},
		{
			name:      "SSH private key in an .sshpub entry",
			data:      map[string][]byte{"ci.sshpub": []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n" + secretLooking + "\n-----END OPENSSH PRIVATE KEY-----\n")},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"ci.sshpub"`, "line 1"},
		},
		{
			name:      "OpenPGP key in an .sshpub entry",
			data:      map[string][]byte{"alice.sshpub": alice},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"alice.sshpub"`, ".asc suffix"},
		},
		{
			name:      "SSH key in an .asc entry",
			data:      map[string][]byte{"ci.asc": sshA},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"ci.asc"`, ".sshpub suffix"},
		},
		{
			name:      "not a key at all",
			data:      map[string][]byte{"token": []byte(secretLooking)},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"token"`, "gpg --export --armor"},
		},
		{
			name: "corrupt armored key",
			data: map[string][]byte{"alice.asc": []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" +
				secretLooking + "\n-----END PGP PUBLIC KEY BLOCK-----\n")},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"alice.asc"`, "block 1"},
		},
		{
			name: "second block of an entry is corrupt",
			data: map[string][]byte{"team.asc": append(append([]byte{}, alice...),
				[]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"+secretLooking+"\n-----END PGP PUBLIC KEY BLOCK-----\n")...)},
			wantErr:   ErrInvalidKey,
			fragments: []string{`"team.asc"`, "block 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := KeyRingFromSecret(tt.data)
			checkErr(t, err, tt.wantErr, tt.fragments...)
			if err != nil {
				if strings.Contains(err.Error(), secretLooking) {
					t.Errorf("error %q repeats the entry content", err)
				}
				return
			}
			if len(k.pgp) != tt.wantPGP || len(k.ssh) != tt.wantSSH {
				t.Errorf("got %d OpenPGP and %d SSH keys, want %d and %d", len(k.pgp), len(k.ssh), tt.wantPGP, tt.wantSSH)
			}
			if k.Len() != tt.wantPGP+tt.wantSSH {
				t.Errorf("Len() = %d, want %d", k.Len(), tt.wantPGP+tt.wantSSH)
			}
		})
	}
}

func TestVerifyRejectsUnsignedAndUnknownFormats(t *testing.T) {
	k := mustKeyRing(t, map[string][]byte{"ci.sshpub": authorizedKey(t)})
	tests := []struct {
		name      string
		signature string
		wantErr   error
		fragments []string
	}{
		{name: "empty", signature: "", wantErr: ErrUnsigned},
		{name: "whitespace only", signature: " \n\t", wantErr: ErrUnsigned},
		{
			name:      "X.509 signature",
			signature: "-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAMIACAQExDTALBglghkgBZQMEAgEwgAYJKoZIhvcNAQcB\n-----END SIGNED MESSAGE-----\n",
			wantErr:   ErrUnsupportedSignature,
			fragments: []string{"X.509"},
		},
		{
			name:      "OpenPGP message instead of a signature",
			signature: "-----BEGIN PGP MESSAGE-----\n\nowGbwMvMwMEYdOzLoaUx9hKMp0WTGOLFqz8Ek0v\n-----END PGP MESSAGE-----\n",
			wantErr:   ErrUnsupportedSignature,
		},
		{name: "plain text", signature: "signed-off-by: me", wantErr: ErrUnsupportedSignature},
		{
			name:      "oversized",
			signature: sshArmorStart + "\n" + strings.Repeat("A", maxSignatureSize) + "\n-----END SSH SIGNATURE-----\n",
			wantErr:   ErrMalformedSignature,
			fragments: []string{"64 KiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer, err := k.Verify([]byte("payload"), tt.signature)
			checkErr(t, err, tt.wantErr, tt.fragments...)
			if signer != "" {
				t.Errorf("signer %q returned with an error", signer)
			}
		})
	}
}

// TestVerifyConcurrent shares one KeyRing between goroutines, as reconcilers
// do; run with -race it checks Verify does not mutate the ring.
func TestVerifyConcurrent(t *testing.T) {
	alice := newPGPEntity(t, "Alice", nil)
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshSigner := mustSigner(t, edPriv)
	k := mustKeyRing(t, map[string][]byte{
		"alice.asc": pgpPublic(t, alice),
		"ci.sshpub": ssh.MarshalAuthorizedKey(sshSigner.PublicKey()),
	})
	payload := []byte(gitPayload)
	sigs := []string{pgpSign(t, alice, payload, nil), buildSSHSig(t, sshSigner, payload, gitSpec())}

	errs := make(chan error, 8*len(sigs))
	for range 8 {
		for _, sig := range sigs {
			go func() {
				_, err := k.Verify(payload, sig)
				errs <- err
			}()
		}
	}
	for range 8 * len(sigs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
