package signature

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gitEnv isolates git from the user's configuration and fixes identities.
func gitEnv(home string) []string {
	return []string{
		"HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, ".gitconfig"),
		"GIT_AUTHOR_NAME=Signer", "GIT_AUTHOR_EMAIL=signer@example.com",
		"GIT_COMMITTER_NAME=Signer", "GIT_COMMITTER_EMAIL=signer@example.com",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	}
}

// splitSignedCommit splits a raw commit object (git cat-file commit) into the
// signed payload, the object without its gpgsig header, and the signature.
func splitSignedCommit(raw []byte) (payload []byte, signature string) {
	end := bytes.Index(raw, []byte("\n\n"))
	if end < 0 {
		return raw, ""
	}
	header, body := raw[:end+1], raw[end+1:]
	var out bytes.Buffer
	var sig strings.Builder
	inSig := false
	for _, line := range bytes.SplitAfter(header, []byte("\n")) {
		switch {
		case bytes.HasPrefix(line, []byte("gpgsig ")):
			inSig = true
			sig.Write(line[len("gpgsig "):])
		case inSig && bytes.HasPrefix(line, []byte(" ")):
			sig.Write(line[1:])
		default:
			inSig = false
			out.Write(line)
		}
	}
	out.Write(body)
	return out.Bytes(), sig.String()
}

// splitSignedTag splits a raw tag object (git cat-file tag): the signature is
// the armored block at the end of the message.
func splitSignedTag(raw []byte) (payload []byte, signature string) {
	for _, start := range []string{sshArmorStart, pgpSigStart} {
		if i := bytes.Index(raw, []byte(start)); i >= 0 {
			return raw[:i], string(raw[i:])
		}
	}
	return raw, ""
}

// gitSigner is a way git signs: the -c options and environment it needs,
// the trusted keys and the signer Verify must report.
type gitSigner struct {
	name    string
	config  []string
	env     []string
	trusted map[string][]byte
	signer  string
}

func sshGitSigner(t *testing.T, keyType string, bits int) gitSigner {
	key := newSSHKey(t, keyType, bits)
	return gitSigner{
		name:    "ssh " + keyType,
		config:  []string{"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key.private},
		trusted: map[string][]byte{"other.sshpub": authorizedKey(t), "signer.sshpub": key.public},
		signer:  key.fingerprint,
	}
}

// gpgGitSigner makes a key with gpg in a temporary GNUPGHOME.
func gpgGitSigner(t *testing.T) gitSigner {
	tool(t, "gpg")
	// A short path: gpg-agent puts its sockets in GNUPGHOME here.
	home, err := os.MkdirTemp("", "gnupg")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"GNUPGHOME=" + home}
	t.Cleanup(func() {
		if _, err := os.Stat(home); err == nil {
			run(t, "", env, "gpgconf", "--kill", "gpg-agent")
		}
		os.RemoveAll(home)
	})
	run(t, "", env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
		"--quick-gen-key", "Signer <signer@example.com>", "ed25519", "sign", "never")
	public := run(t, "", env, "gpg", "--armor", "--export", "signer@example.com")
	var keyID string
	for _, line := range strings.Split(string(run(t, "", env, "gpg", "--with-colons", "--list-keys", "signer@example.com")), "\n") {
		if fields := strings.Split(line, ":"); fields[0] == "pub" && len(fields) > 4 {
			keyID = fields[4]
		}
	}
	if keyID == "" {
		t.Fatal("gpg did not list the key")
	}
	return gitSigner{
		name:    "gpg ed25519",
		config:  []string{"-c", "gpg.format=openpgp", "-c", "user.signingkey=signer@example.com"},
		env:     env,
		trusted: map[string][]byte{"signer.asc": public, "ci.sshpub": authorizedKey(t)},
		signer:  keyID,
	}
}

// TestVerifyGitSignedObjects signs commits and tags with git itself and
// verifies them as the GitRepository controller does.
func TestVerifyGitSignedObjects(t *testing.T) {
	tool(t, "git")
	signers := []gitSigner{
		sshGitSigner(t, "ed25519", 0),
		sshGitSigner(t, "ecdsa", 256),
		sshGitSigner(t, "rsa", 3072),
		gpgGitSigner(t),
	}
	for _, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			home := t.TempDir()
			env := append(gitEnv(home), s.env...)
			repo := filepath.Join(home, "repo")
			git := func(args ...string) []byte {
				return run(t, repo, env, "git", append(append([]string{}, s.config...), args...)...)
			}
			run(t, home, env, "git", "init", "-q", "-b", "main", repo)
			git("commit", "-q", "-S", "--allow-empty", "-m", "release 1.0")
			git("tag", "-s", "-m", "release 1.0", "v1.0.0")
			k := mustKeyRing(t, s.trusted)

			commitPayload, commitSig := splitSignedCommit(git("cat-file", "commit", "HEAD"))
			tagPayload, tagSig := splitSignedTag(git("cat-file", "tag", "v1.0.0"))
			for _, obj := range []struct {
				kind      string
				payload   []byte
				signature string
			}{
				{"commit", commitPayload, commitSig},
				{"tag", tagPayload, tagSig},
			} {
				signer, err := k.Verify(obj.payload, obj.signature)
				if err != nil {
					t.Fatalf("%s: %v", obj.kind, err)
				}
				if signer != s.signer {
					t.Errorf("%s signer %q, want %q", obj.kind, signer, s.signer)
				}
				tampered := bytes.Replace(obj.payload, []byte("release 1.0"), []byte("release 6.6"), 1)
				_, err = k.Verify(tampered, obj.signature)
				checkErr(t, err, ErrInvalidSignature, s.signer)
			}

			// The same commit checked against keys that do not include the signer.
			untrusted := mustKeyRing(t, map[string][]byte{
				"other.sshpub": authorizedKey(t),
				"other.asc":    pgpPublic(t, newPGPEntity(t, "Other", nil)),
			})
			_, err := untrusted.Verify(commitPayload, commitSig)
			checkErr(t, err, ErrNoMatchingKey, s.signer)
		})
	}

	t.Run("unsigned commit", func(t *testing.T) {
		home := t.TempDir()
		env := gitEnv(home)
		repo := filepath.Join(home, "repo")
		run(t, home, env, "git", "init", "-q", "-b", "main", repo)
		run(t, repo, env, "git", "commit", "-q", "--allow-empty", "-m", "unsigned")
		payload, sig := splitSignedCommit(run(t, repo, env, "git", "cat-file", "commit", "HEAD"))
		k := mustKeyRing(t, map[string][]byte{"ci.sshpub": authorizedKey(t)})
		_, err := k.Verify(payload, sig)
		checkErr(t, err, ErrUnsigned)
	})
}
