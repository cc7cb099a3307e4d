package imageupdateautomation

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// TestPushOptions sends push.options as git push-options, which the
// server's pre-receive hook records.
func TestPushOptions(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	f.git(t, "config", "receive.advertisePushOptions", "true")
	record := filepath.Join(t.TempDir(), "options")
	hook := "#!/bin/sh\nenv | grep '^GIT_PUSH_OPTION_[0-9]' | sed 's/^[^=]*=//' > '" + record + "'\n"
	if err := os.WriteFile(filepath.Join(f.repo.Dir(), "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.GitSpec.Push = &imagev1.PushSpec{Options: map[string]string{"merge_request.create": "", "ci.skip": ""}}
	})
	f.waitPushed(t, obj, "main", "")
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the hook recorded nothing: %v", err)
	}
	got := strings.Fields(string(data))
	sort.Strings(got)
	if strings.Join(got, " ") != "ci.skip= merge_request.create=" {
		t.Errorf("push options seen by the server: %q", got)
	}
}

// TestSSHSignedCommit signs with signingKey type ssh (identity and
// password) and checks the signature with git verify-commit.
func TestSSHSignedCommit(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "s3cr3t"})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "signing", Namespace: f.ns},
		Data: map[string][]byte{"identity": key.PrivateKey, "password": []byte(key.Passphrase)}})
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "signing"}, Type: imagev1.SigningKeyTypeSSH}
	})
	head := f.waitPushed(t, obj, "main", "").Status.LastPushCommit

	allowed := filepath.Join(t.TempDir(), "allowed_signers")
	if err := os.WriteFile(allowed, []byte("fluxcdbot@users.noreply.github.com "+key.AuthorizedKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	verify := func(rev string) (string, error) {
		out, err := exec.Command("git", "--git-dir="+f.repo.Dir(), "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed,
			"verify-commit", "-v", rev).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(head); err != nil || !strings.Contains(out, "Good") {
		t.Errorf("git verify-commit %s: %v\n%s", head, err, out)
	}
	if out, err := verify(head + "^"); err == nil {
		t.Errorf("verify-commit accepts the unsigned parent too; the check proves nothing:\n%s", out)
	}
}

// example04 is the messageTemplate of the mission's example 04, as written.
const example04 = `Update images
{{ range .Updated.Images }}
- {{ .Name }}: {{ .NewTag }}
{{ end }}
`

// TestUpdatedTemplateRendered renders Flux's removed `.Updated` field, as
// example 04 uses it, and warns once that `.Changed` replaces it.
func TestUpdatedTemplateRendered(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.GitSpec.Commit.MessageTemplate = example04
	})
	head := f.waitPushed(t, obj, "main", "").Status.LastPushCommit
	if msg := f.git(t, "log", "-1", "--format=%B", head); msg != "Update images\n\n- registry.local/app: 1.1.0" {
		t.Errorf("commit message %q", msg)
	}
	controllertest.WaitEvent(t, env.Kube, obj, corev1.EventTypeWarning, imagev1.RemovedTemplateFieldReason, "'.Updated'")
}

// TestRefspecs pushes both refspec forms Flux documents; with only a
// refspec the checkout branch is pushed too.
func TestRefspecs(t *testing.T) {
	for _, c := range []struct{ name, refspec, ref string }{
		{name: "branch", refspec: "refs/heads/main:refs/heads/auto", ref: "refs/heads/auto"},
		{name: "gerrit", refspec: "HEAD:refs/for/main", ref: "refs/for/main"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, map[string]string{"README.md": "hello\n"})
			f.commitMarked(t)
			f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
			obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Push = &imagev1.PushSpec{Refspec: c.refspec}
			})
			head := f.waitPushed(t, obj, "main", "").Status.LastPushCommit
			if got := f.git(t, "rev-parse", c.ref); got != head {
				t.Errorf("%s is at %s, want the pushed commit %s", c.ref, got, head)
			}
			controllertest.WaitEvent(t, env.Kube, obj, corev1.EventTypeNormal, meta.SucceededReason,
				"pushed commit '"+head[:7]+"' to branch 'main' and refspecs '"+c.refspec+"'")
		})
	}
}

// TestCheckoutRefs checks out a tag, a semver range and a commit, which
// are not branches: the update is committed on the checked-out commit and
// force-pushed to push.branch, created when missing.
func TestCheckoutRefs(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	first := f.commitMarked(t)
	f.repo.Tag("v1.0.0", first, true)
	second := f.repo.CommitFiles("main", map[string]string{"README.md": "second\n"}, "second")
	f.repo.Tag("v1.1.0", second, false)
	f.repo.CommitFiles("main", map[string]string{"README.md": "third\n"}, "third")
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	for _, c := range []struct {
		name   string
		ref    imagev1.GitRepositoryRef
		base   string
		prefix string
	}{
		{name: "tag", ref: imagev1.GitRepositoryRef{Tag: "v1.0.0"}, base: first, prefix: "v1.0.0@sha1:"},
		{name: "semver", ref: imagev1.GitRepositoryRef{SemVer: ">=1.0.0"}, base: second, prefix: "v1.1.0@sha1:"},
		{name: "commit", ref: imagev1.GitRepositoryRef{Commit: first}, base: first, prefix: "sha1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			branch := "auto-" + c.name
			obj := f.automation(t, c.name, func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Checkout = &imagev1.GitCheckoutSpec{Reference: c.ref}
				s.GitSpec.Push = &imagev1.PushSpec{Branch: branch}
			})
			got := f.waitPushed(t, obj, branch, "")
			head := got.Status.LastPushCommit
			if parent := f.git(t, "rev-parse", head+"^"); parent != c.base {
				t.Errorf("the pushed commit's parent is %s, want %s", parent, c.base)
			}
			if file := f.git(t, "show", head+":deploy.yaml"); !strings.Contains(file, "app:1.1.0 #") {
				t.Errorf("deploy.yaml:\n%s", file)
			}
			if got.Status.ObservedSourceRevision != c.prefix+c.base {
				t.Errorf("observedSourceRevision %q, want %q", got.Status.ObservedSourceRevision, c.prefix+c.base)
			}
		})
	}
}
