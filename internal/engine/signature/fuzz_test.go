package signature

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzVerifySSH feeds arbitrary armored SSH signatures to the sshsig parser
// and verifier. The seeds (a real ssh-keygen signature, crafted ones and
// broken ones) run as ordinary tests with go test; go test -fuzz explores
// further. Properties: no panic, every error is one of this package's typed
// errors, and success only with a trusted key's fingerprint.
func FuzzVerifySSH(f *testing.F) {
	signer, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)))
	if err != nil {
		f.Fatal(err)
	}
	key := newSSHKey(f, "ed25519", 0)
	trusted := map[string]bool{ssh.FingerprintSHA256(signer.PublicKey()): true, key.fingerprint: true}
	k := mustKeyRing(f, map[string][]byte{
		"ci.sshpub":     ssh.MarshalAuthorizedKey(signer.PublicKey()),
		"signer.sshpub": key.public,
	})

	payload := []byte(gitPayload)
	valid := buildSSHSig(f, signer, payload, gitSpec())
	blob := decodeArmor(f, valid)

	seeds := []string{
		valid,
		sshKeygenSign(f, key, "git", payload),
		buildSSHSig(f, signer, payload, sshsigSpec{magic: sshsigMagic, version: sshsigVersion, namespace: "file", hashAlg: hashSHA256}),
		buildSSHSig(f, signer, payload, sshsigSpec{magic: sshsigMagic, version: 9, namespace: gitNamespace, hashAlg: hashSHA512}),
		armorSSH(blob[:len(blob)/2]),
		armorSSH(append(append([]byte{}, blob...), 0)),
		armorSSH([]byte(sshsigMagic + "\x00\x00\x00\x01\xff\xff\xff\xff")),
		armorSSH(nil),
		sshArmorStart + "\n",
		strings.ToLower(valid),
	}
	for _, seed := range seeds {
		f.Add(payload, seed)
	}
	f.Add([]byte{}, valid)

	f.Fuzz(func(t *testing.T, payload []byte, signature string) {
		got, err := k.verifySSH(payload, signature)
		if err != nil {
			if !isTyped(err) {
				t.Fatalf("untyped error: %v", err)
			}
			if got != "" {
				t.Fatalf("signer %q returned with error %v", got, err)
			}
			return
		}
		if !trusted[got] {
			t.Fatalf("verified with signer %q, which is not trusted", got)
		}
	})
}
