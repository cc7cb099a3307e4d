package imageupdateautomation

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/commitmessage"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

const marked = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.local/app:1.0.0 # {"$imagepolicy": "%NS%:app"}
`

func (f *fixture) commitMarked(t *testing.T) string {
	t.Helper()
	return f.repo.CommitFiles("main", map[string]string{"deploy.yaml": strings.ReplaceAll(marked, "%NS%", f.ns)}, "add app")
}

// TestPushToAnotherBranch pushes to a branch that does not exist yet,
// created from the checkout head, then force-pushes it from the new
// checkout head; the checkout branch never moves and the GitRepository,
// which tracks main, is not asked to fetch.
func TestPushToAnotherBranch(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	mainHead := f.commitMarked(t)
	pol := f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.GitSpec.Push = &imagev1.PushSpec{Branch: "image-updates"}
	})
	first := f.waitPushed(t, obj, "image-updates", "").Status.LastPushCommit
	if parent := f.git(t, "rev-parse", first+"^"); parent != mainHead {
		t.Errorf("the new branch starts at %s, want main's head %s", parent, mainHead)
	}
	if now := f.head("main"); now != mainHead {
		t.Errorf("main moved from %s to %s", mainHead, now)
	}
	if msg := f.git(t, "log", "-1", "--format=%B", first); msg != commitmessage.DefaultMessage {
		t.Errorf("default message %q", msg)
	}

	setLatest(t, pol, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.2.0"})
	second := f.waitPushed(t, obj, "image-updates", first).Status.LastPushCommit
	if parent := f.git(t, "rev-parse", second+"^"); parent != mainHead {
		t.Errorf("the force-pushed commit's parent is %s, want main's head %s (not the previous %s)", parent, mainHead, first)
	}
	if file := f.git(t, "show", second+":deploy.yaml"); !strings.Contains(file, "app:1.2.0 #") {
		t.Errorf("deploy.yaml:\n%s", file)
	}
	if now := f.head("main"); now != mainHead {
		t.Errorf("main moved from %s to %s", mainHead, now)
	}
	var src sourcev1.GitRepository
	if err := kube.Get(t.Context(), client.ObjectKeyFromObject(f.src), &src); err != nil {
		t.Fatal(err)
	}
	if v, ok := src.Annotations[meta.ReconcileRequestAnnotation]; ok {
		t.Errorf("the GitRepository tracking main was asked to reconcile (%q) after a push to another branch", v)
	}
}

// TestLostRaceIsReapplied lands another commit on main just before the
// automation's first push: the push is not a fast-forward, and the same
// run re-applies the setters on the new head, keeping the other commit.
func TestLostRaceIsReapplied(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	var concurrent string
	setHook(t, f.ns, func(attempt int) {
		if attempt == 1 {
			concurrent = f.repo.CommitFiles("main", map[string]string{"NOTES.md": "a human was here\n"}, "human commit")
		}
	})
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", nil)
	got := f.waitPushed(t, obj, "main", "")
	head := got.Status.LastPushCommit
	if concurrent == "" {
		t.Fatal("the hook never ran")
	}
	if parent := f.git(t, "rev-parse", head+"^"); parent != concurrent {
		t.Errorf("the pushed commit's parent is %s, want the concurrent commit %s", parent, concurrent)
	}
	if notes := f.git(t, "show", head+":NOTES.md"); notes != "a human was here" {
		t.Errorf("NOTES.md %q", notes)
	}
	if file := f.git(t, "show", head+":deploy.yaml"); !strings.Contains(file, "app:1.1.0 #") {
		t.Errorf("deploy.yaml:\n%s", file)
	}
	if n := f.git(t, "rev-list", "--count", "--author=fluxcdbot", "main"); n != "1" {
		t.Errorf("%s automation commits on main, want 1", n)
	}
}

// TestGPGSignedCommit signs with the key of signingKey.secretRef and
// checks the signature with git verify-commit and gpg.
func TestGPGSignedCommit(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg is not installed")
	}
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	key := gittest.GeneratePGPKey(t, "fluxcdbot", "fluxcdbot@users.noreply.github.com")
	var private bytes.Buffer
	w, err := armor.Encode(&private, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Entity.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "signing", Namespace: f.ns},
		Data: map[string][]byte{"git.asc": private.Bytes()}})
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "signing"}}
	})
	head := f.waitPushed(t, obj, "main", "").Status.LastPushCommit

	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	pub := filepath.Join(home, "pub.asc")
	if err := os.WriteFile(pub, key.PublicKey, 0o600); err != nil {
		t.Fatal(err)
	}
	gpgEnv := []string{"GNUPGHOME=" + home}
	cmd := exec.Command("gpg", "--batch", "--import", pub)
	cmd.Env = append(os.Environ(), gpgEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, out)
	}
	out := gitIn(t, f.repo.Dir(), gpgEnv, "verify-commit", "-v", head)
	if !strings.Contains(out, "Good signature") {
		t.Errorf("git verify-commit: %s", out)
	}
	if unsigned := f.git(t, "rev-parse", head+"^"); exec.Command("git", "--git-dir="+f.repo.Dir(), "verify-commit", unsigned).Run() == nil {
		t.Errorf("verify-commit accepts the unsigned parent too; the check proves nothing")
	}
}
