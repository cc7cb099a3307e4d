package sops

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var update = flag.Bool("update", false,
	"regenerate testdata: new test keys, documents encrypted and decrypted by a real sops binary "+
		"(SOPS_BINARY, or built from its module) and gpg")

// fixture is one document in testdata/encrypted, written by the real sops
// binary from testdata/plain; testdata/decrypted holds what `sops --decrypt`
// makes of it.
type fixture struct {
	name  string   // file name in testdata/encrypted and testdata/decrypted
	plain string   // source in testdata/plain
	args  []string // sops --encrypt flags; {age}, {age-b}, {age-pq}, {pgp} name the test keys
	// config is a .sops.yaml for key groups, with the same placeholders.
	config string
}

const k8sRegex = "^(data|stringData)$"

func fixtures() []fixture {
	return []fixture{
		{name: "secret-data.yaml", plain: "secret-data.yaml", args: []string{"--age", "{age}", "--encrypted-regex", k8sRegex}},
		{name: "secret-stringdata.yaml", plain: "secret-stringdata.yaml", args: []string{"--age", "{age}", "--encrypted-regex", k8sRegex}},
		{name: "secret-full.yaml", plain: "secret-full.yaml", args: []string{"--age", "{age}"}},
		{name: "secret-unencrypted-regex.yaml", plain: "secret-stringdata.yaml", args: []string{"--age", "{age}", "--unencrypted-regex", "^(apiVersion|kind|metadata|type)$"}},
		{name: "secret-suffix.yaml", plain: "secret-suffix.yaml", args: []string{"--age", "{age}", "--encrypted-suffix", "_secret"}},
		{name: "secret-mac-only.yaml", plain: "secret-data.yaml", args: []string{"--age", "{age}", "--encrypted-regex", k8sRegex, "--mac-only-encrypted"}},
		{name: "secret-pgp.yaml", plain: "secret-data.yaml", args: []string{"--pgp", "{pgp}", "--encrypted-regex", k8sRegex}},
		{name: "secret-multi-age.yaml", plain: "secret-data.yaml", args: []string{"--age", "{age},{age-b}", "--encrypted-regex", k8sRegex}},
		{name: "secret-pq.yaml", plain: "secret-data.yaml", args: []string{"--age", "{age-pq}", "--encrypted-regex", k8sRegex}},
		{name: "secret-keygroups.yaml", plain: "secret-data.yaml", args: []string{"--encrypted-regex", k8sRegex},
			config: "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: ['{age}']\n      - pgp: ['{pgp}']\n      - age: ['{age-b}']\n"},
		{name: "configmap.yaml", plain: "configmap.yaml", args: []string{"--age", "{age}", "--encrypted-regex", "^data$"}},
		{name: "app.env", plain: "app.env", args: []string{"--age", "{age}"}},
		{name: "config.json", plain: "config.json", args: []string{"--age", "{age}"}},
		{name: "config.yaml", plain: "config.yaml", args: []string{"--age", "{age}"}},
		{name: "config-comment.yaml", plain: "config-comment.yaml", args: []string{"--age", "{age}", "--encrypted-comment-regex", "sops:enc"}},
		{name: "settings.ini", plain: "settings.ini", args: []string{"--age", "{age}"}},
		{name: "tls.key", plain: "tls.key", args: []string{"--age", "{age}"}},
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := 0
	if *update {
		if err := regenerate(); err != nil {
			fmt.Fprintln(os.Stderr, "regenerating testdata:", err)
			code = 1
		}
	}
	if code == 0 {
		code = m.Run()
	}
	removeSopsBuild()
	os.Exit(code)
}

// regenerate makes new test-only keys and re-encrypts every fixture with the
// real sops binary, so the committed documents prove interoperability.
func regenerate() error {
	sopsBin, err := findSops()
	if err != nil {
		return fmt.Errorf("-update needs the real sops CLI: %w", err)
	}
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		return fmt.Errorf("-update needs gpg for the OpenPGP fixtures: %w", err)
	}
	recipients, err := writeTestKeys()
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "sops-fixtures-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	gnupg := filepath.Join(scratch, "gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		return err
	}
	env := append(os.Environ(), "GNUPGHOME="+gnupg, "SOPS_AGE_KEY_FILE="+filepath.Join(scratch, "all.agekey"))
	if err := run(env, nil, gpg, "--batch", "--import", filepath.Join("testdata", "keys", "pgp.asc")); err != nil {
		return err
	}
	var all []byte
	for _, f := range []string{"age.agekey", "age-b.agekey", "age-pq.agekey"} {
		b, err := os.ReadFile(filepath.Join("testdata", "keys", f))
		if err != nil {
			return err
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(filepath.Join(scratch, "all.agekey"), all, 0o600); err != nil {
		return err
	}
	for _, fx := range fixtures() {
		args := []string{"--encrypt"}
		if fx.config != "" {
			cfg := filepath.Join(scratch, fx.name+".sops.yaml")
			if err := os.WriteFile(cfg, []byte(recipients.Replace(fx.config)), 0o600); err != nil {
				return err
			}
			args = append(args, "--config", cfg)
		}
		for _, a := range fx.args {
			args = append(args, recipients.Replace(a))
		}
		// sops picks the format from the input's extension, which the
		// source and the fixture share.
		args = append(args, filepath.Join("testdata", "plain", fx.plain))
		var enc bytes.Buffer
		if err := run(env, &enc, sopsBin, args...); err != nil {
			return fmt.Errorf("%s: %w", fx.name, err)
		}
		encPath := filepath.Join("testdata", "encrypted", fx.name)
		if err := os.WriteFile(encPath, enc.Bytes(), 0o644); err != nil {
			return err
		}
		var dec bytes.Buffer
		if err := run(env, &dec, sopsBin, "--decrypt", encPath); err != nil {
			return fmt.Errorf("%s: %w", fx.name, err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "decrypted", fx.name), dec.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func run(env []string, stdout *bytes.Buffer, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return nil
}

// writeTestKeys generates the test-only keys into testdata/keys and returns
// the replacer from placeholders to their public recipients.
func writeTestKeys() (*strings.Replacer, error) {
	dir := filepath.Join("testdata", "keys")
	var pairs []string
	for _, k := range []struct{ file, placeholder string }{
		{"age.agekey", "{age}"}, {"age-b.agekey", "{age-b}"}, {"age-pq.agekey", "{age-pq}"},
	} {
		var id interface {
			String() string
		}
		var recipient string
		if k.placeholder == "{age-pq}" {
			pq, err := age.GenerateHybridIdentity()
			if err != nil {
				return nil, err
			}
			id, recipient = pq, pq.Recipient().String()
		} else {
			x, err := age.GenerateX25519Identity()
			if err != nil {
				return nil, err
			}
			id, recipient = x, x.Recipient().String()
		}
		content := fmt.Sprintf("# TEST KEY ONLY, never use it for real secrets\n# public key: %s\n%s\n", recipient, id.String())
		if err := os.WriteFile(filepath.Join(dir, k.file), []byte(content), 0o600); err != nil {
			return nil, err
		}
		pairs = append(pairs, k.placeholder, recipient)
	}
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048}
	e, err := openpgp.NewEntity("Driftless Test", "TEST KEY ONLY", "test@driftless.invalid", cfg)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.SerializePrivate(w, cfg); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "pgp.asc"), append(b.Bytes(), '\n'), 0o600); err != nil {
		return nil, err
	}
	pairs = append(pairs, "{pgp}", fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
	return strings.NewReplacer(pairs...), nil
}
