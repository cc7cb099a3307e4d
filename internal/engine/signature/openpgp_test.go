package signature

import (
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestVerifyOpenPGP(t *testing.T) {
	alice := newPGPEntity(t, "Alice", nil)
	bob := newPGPEntity(t, "Bob", nil)
	carol := newPGPEntity(t, "Carol", &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048})
	payload := []byte(gitPayload)
	aliceSig := pgpSign(t, alice, payload, nil)
	aliceID := alice.PrimaryKey.KeyIdString()

	// The armored body with one character changed inside the base64.
	lines := strings.Split(aliceSig, "\n")
	lines[2] = swapFirstChar(lines[2])
	corrupted := strings.Join(lines, "\n")

	tests := []struct {
		name       string
		data       map[string][]byte
		payload    []byte
		signature  string
		wantSigner string
		wantErr    error
		fragments  []string
	}{
		{
			name:       "valid EdDSA signature",
			data:       map[string][]byte{"alice.asc": pgpPublic(t, alice)},
			payload:    payload,
			signature:  aliceSig,
			wantSigner: aliceID,
		},
		{
			name:       "valid RSA signature, unsuffixed entry",
			data:       map[string][]byte{"carol": pgpPublic(t, carol)},
			payload:    payload,
			signature:  pgpSign(t, carol, payload, nil),
			wantSigner: carol.PrimaryKey.KeyIdString(),
		},
		{
			name:       "second entry matches",
			data:       map[string][]byte{"a-bob.asc": pgpPublic(t, bob), "b-alice.asc": pgpPublic(t, alice)},
			payload:    payload,
			signature:  aliceSig,
			wantSigner: aliceID,
		},
		{
			name:       "second block of one entry matches",
			data:       map[string][]byte{"team.asc": append(pgpPublic(t, bob), pgpPublic(t, alice)...)},
			payload:    payload,
			signature:  aliceSig,
			wantSigner: aliceID,
		},
		{
			name:       "SSH keys trusted too",
			data:       map[string][]byte{"alice.asc": pgpPublic(t, alice), "ci.sshpub": authorizedKey(t)},
			payload:    payload,
			signature:  aliceSig,
			wantSigner: aliceID,
		},
		{
			name:      "signer not trusted",
			data:      map[string][]byte{"bob.asc": pgpPublic(t, bob)},
			payload:   payload,
			signature: aliceSig,
			wantErr:   ErrNoMatchingKey,
			fragments: []string{aliceID},
		},
		{
			name:      "only SSH keys trusted",
			data:      map[string][]byte{"ci.sshpub": authorizedKey(t)},
			payload:   payload,
			signature: aliceSig,
			wantErr:   ErrNoMatchingKey,
			fragments: []string{aliceID},
		},
		{
			name:      "tampered payload",
			data:      map[string][]byte{"alice.asc": pgpPublic(t, alice)},
			payload:   []byte(strings.Replace(gitPayload, "release 1.0", "release 6.6", 1)),
			signature: aliceSig,
			wantErr:   ErrInvalidSignature,
			fragments: []string{aliceID, "does not match the payload"},
		},
		{
			name:      "corrupted armor",
			data:      map[string][]byte{"alice.asc": pgpPublic(t, alice)},
			payload:   payload,
			signature: corrupted,
			wantErr:   ErrMalformedSignature,
		},
		{
			name:      "armor without body",
			data:      map[string][]byte{"alice.asc": pgpPublic(t, alice)},
			payload:   payload,
			signature: "-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n",
			wantErr:   ErrMalformedSignature,
		},
		{
			name:      "armor without end line",
			data:      map[string][]byte{"alice.asc": pgpPublic(t, alice)},
			payload:   payload,
			signature: "-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0WIQ",
			wantErr:   ErrMalformedSignature,
		},
		{
			name:      "public key armored as a signature",
			data:      map[string][]byte{"alice.asc": pgpPublic(t, alice)},
			payload:   payload,
			signature: strings.ReplaceAll(string(pgpPublic(t, bob)), "PUBLIC KEY BLOCK", "SIGNATURE"),
			wantErr:   ErrMalformedSignature,
			fragments: []string{"not a signature packet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustKeyRing(t, tt.data)
			signer, err := k.Verify(tt.payload, tt.signature)
			checkErr(t, err, tt.wantErr, tt.fragments...)
			if signer != tt.wantSigner {
				t.Errorf("signer %q, want %q", signer, tt.wantSigner)
			}
		})
	}
}

// TestVerifyOpenPGPExpiry uses the injected clock: a key valid for one hour
// verifies within the hour and fails after.
func TestVerifyOpenPGPExpiry(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	config := &packet.Config{
		Algorithm:       packet.PubKeyAlgoEdDSA,
		Time:            func() time.Time { return created },
		KeyLifetimeSecs: 3600,
	}
	e := newPGPEntity(t, "Dave", config)
	sig := pgpSign(t, e, []byte(gitPayload), config)
	data := map[string][]byte{"dave.asc": pgpPublic(t, e)}

	tests := []struct {
		name    string
		now     time.Time
		wantErr error
	}{
		{name: "within the key lifetime", now: created.Add(30 * time.Minute)},
		{name: "after the key expired", now: created.Add(2 * time.Hour), wantErr: ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustKeyRing(t, data, WithClock(func() time.Time { return tt.now }))
			_, err := k.Verify([]byte(gitPayload), sig)
			checkErr(t, err, tt.wantErr, "expired")
		})
	}
}

func swapFirstChar(s string) string {
	if s == "" {
		return s
	}
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}
