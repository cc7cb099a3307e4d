package cosign_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/engine/cosign"
	"github.com/driftless/driftless/internal/engine/cosign/cosigntest"
)

func TestParsePublicKeys(t *testing.T) {
	p256 := newKey(t, "ecdsa-p256")
	rsaKey := newKey(t, "rsa-2048")
	ed := newKey(t, "ed25519")
	pemOf := func(pub any) []byte {
		b, err := cosigntest.PublicKeyPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaKey.Public().(*rsa.PublicKey))})

	keys, err := cosign.ParsePublicKeys(map[string][]byte{
		"z.pub":      pemOf(ed.Public()),
		"cosign.pub": pemOf(p256.Public()),
		"rsa.pub":    pkcs1,
		"cosign.key": []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nignored\n"),
		"README":     []byte("not a key"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "cosign.pub,rsa.pub,z.pub" {
		t.Fatalf("keys %v, want cosign.pub, rsa.pub, z.pub in name order", names)
	}
	if _, ok := keys[0].Key.(*ecdsa.PublicKey); !ok {
		t.Errorf("cosign.pub parsed as %T", keys[0].Key)
	}

	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	secretKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})
	for _, c := range []struct {
		name, want string
		data       map[string][]byte
		sentinel   error
	}{
		{"no *.pub", "the Secret has no *.pub key", map[string][]byte{"cosign.key": secretKey, "ca.crt": nil}, cosign.ErrNoKeys},
		{"empty Secret", "the Secret has no *.pub key", nil, cosign.ErrNoKeys},
		{"not PEM", "Secret key bad.pub: no PEM block", map[string][]byte{"good.pub": pemOf(ed.Public()), "bad.pub": []byte("ssh-ed25519 AAAA")}, cosign.ErrInvalidKey},
		{"private key", `Secret key leak.pub: PEM block "PRIVATE KEY" is not a public key`, map[string][]byte{"leak.pub": secretKey}, cosign.ErrInvalidKey},
		{"broken DER", "Secret key cosign.pub: PEM PUBLIC KEY block", map[string][]byte{"cosign.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})}, cosign.ErrInvalidKey},
		{"P-224", "ECDSA curve P-224 is not supported", map[string][]byte{"cosign.pub": pemOf(&p224.PublicKey)}, cosign.ErrInvalidKey},
		{"short RSA", "RSA key of 1024 bits is too short", map[string][]byte{"cosign.pub": pemOf(&small.PublicKey)}, cosign.ErrInvalidKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := cosign.ParsePublicKeys(c.data)
			if !errors.Is(err, c.sentinel) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %v containing %q", err, c.sentinel, c.want)
			}
			for _, v := range c.data {
				if len(v) > 40 && strings.Contains(err.Error(), string(v[30:40])) {
					t.Errorf("error %q quotes key material", err)
				}
			}
		})
	}
}
