package sops

import (
	"bytes"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestKeysFromSecret(t *testing.T) {
	x1, x2 := newAgeIdentity(t), newAgeIdentity(t)
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	pgpKey := readTestdata(t, "keys", "pgp.asc")
	tests := []struct {
		name       string
		data       map[string][]byte
		ages, pgps int
		cloud      string
	}{
		{
			name: "age file as age-keygen writes it, with CRLF and blank lines",
			data: map[string][]byte{"identity.agekey": []byte(
				"# created: 2026-01-01T00:00:00Z\r\n# public key: " + x1.Recipient().String() + "\r\n\r\n  " + x1.String() + "  \r\n")},
			ages: 1,
		},
		{
			name: "several identities per entry and several entries",
			data: map[string][]byte{
				"a.agekey": []byte(x1.String() + "\n" + x2.String() + "\n"),
				"b.agekey": []byte(x2.String()),
			},
			ages: 3,
		},
		{
			name: "post-quantum hybrid identity",
			data: map[string][]byte{"pq.agekey": []byte(pq.String() + "\n")},
			ages: 1,
		},
		{
			name: "OpenPGP private key",
			data: map[string][]byte{"sops.asc": pgpKey},
			pgps: 1,
		},
		{
			name: "cloud entries accepted, unknown entries ignored",
			data: map[string][]byte{
				"sops.aws-kms":     []byte("aws_access_key_id: x\naws_secret_access_key: y\n"),
				"sops.azure-kv":    []byte("tenantId: t\n"),
				"sops.gcp-kms":     []byte(`{"type": "service_account"}`),
				"sops.vault-token": []byte("s.token"),
				"README":           []byte("not a key"),
				"identity.agekey2": []byte("ignored: the suffix is not .agekey"),
			},
			cloud: "sops.aws-kms, sops.azure-kv, sops.gcp-kms, sops.vault-token",
		},
		{name: "empty secret", data: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := KeysFromSecret(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(k.ages) != tt.ages || len(k.pgp) != tt.pgps {
				t.Errorf("got %d age identities and %d OpenPGP keys, want %d and %d", len(k.ages), len(k.pgp), tt.ages, tt.pgps)
			}
			if got := strings.Join(k.cloud, ", "); got != tt.cloud {
				t.Errorf("cloud entries %q, want %q", got, tt.cloud)
			}
			noSecrets(t, k.String(), x1.String(), x2.String(), pq.String())
		})
	}
}

func TestKeysFromSecretErrors(t *testing.T) {
	x := newAgeIdentity(t)
	// A valid identity with its last character changed fails its checksum.
	last := "Q"
	if strings.HasSuffix(x.String(), last) {
		last = "P"
	}
	corrupt := x.String()[:len(x.String())-1] + last
	public := pgpEntity(t)
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := public.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	protected := pgpEntity(t)
	if err := protected.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      map[string][]byte
		fragments []string
		leak      string
	}{
		{"malformed age identity", map[string][]byte{"bad.agekey": []byte("# comment\n" + corrupt + "\n")},
			[]string{`"bad.agekey"`, "line 2", "malformed age identity"}, corrupt},
		{"not an age identity", map[string][]byte{"x.agekey": []byte("hello world\n")},
			[]string{`"x.agekey"`, "line 1", "not an age identity"}, "hello world"},
		{"recipient instead of identity", map[string][]byte{"x.agekey": []byte(x.Recipient().String())},
			[]string{"not an age identity"}, x.Recipient().String()},
		{"age plugin identity", map[string][]byte{"x.agekey": []byte("AGE-PLUGIN-YUBIKEY-1QQQQQQ\n")},
			[]string{"plugin identities are not supported"}, "YUBIKEY-1QQQQQQ"},
		{"no identity at all", map[string][]byte{"empty.agekey": []byte("# only a comment\n\n")},
			[]string{`"empty.agekey"`, "no age identity found"}, ""},
		{"garbage OpenPGP key", map[string][]byte{"key.asc": []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot base64\n-----END PGP PRIVATE KEY BLOCK-----\n")},
			[]string{`"key.asc"`, "not an OpenPGP key"}, ""},
		{"OpenPGP public key only", map[string][]byte{"pub.asc": pub.Bytes()},
			[]string{`"pub.asc"`, "only public keys"}, ""},
		{"OpenPGP key with a passphrase", map[string][]byte{"locked.asc": armoredPrivate(t, protected)},
			[]string{`"locked.asc"`, "protected by a passphrase"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := KeysFromSecret(tt.data)
			wantErr(t, err, ErrInvalidKey, tt.fragments...)
			if err != nil {
				t.Log(err)
				noSecrets(t, err.Error(), tt.leak)
			}
		})
	}
}

func newAgeIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func pgpEntity(t *testing.T) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("Test", "TEST KEY ONLY", "test@driftless.invalid", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func armoredPrivate(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}
