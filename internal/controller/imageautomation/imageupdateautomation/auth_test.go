package imageupdateautomation

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

// TestCredentialsFromTheGitRepository pushes over HTTPS with basic auth
// and the CA of the GitRepository's secretRef; a wrong password fails
// with the Secret named and nothing pushed.
func TestCredentialsFromTheGitRepository(t *testing.T) {
	repo := gittest.NewRepo(t)
	head := repo.CommitFiles("main", map[string]string{"README.md": "hello\n"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{TLS: true, Username: "bot", Password: "s3cr3t-pass"})
	for _, c := range []struct {
		name, password string
		ok             bool
	}{{name: "right", password: "s3cr3t-pass", ok: true}, {name: "wrong", password: "nope"}} {
		t.Run(c.name, func(t *testing.T) {
			ns := env.Namespace(t)
			f := &fixture{ns: ns, repo: repo, srv: srv}
			head = repo.CommitFiles("main", map[string]string{"deploy.yaml": strings.ReplaceAll(marked, "%NS%", ns)}, "app for "+c.name)
			create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "git-auth", Namespace: ns}, Data: map[string][]byte{
				"username": []byte("bot"), "password": []byte(c.password), "ca.crt": srv.CAPEM}})
			f.src = &sourcev1.GitRepository{
				ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: ns},
				Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
					Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, SecretRef: &meta.LocalObjectReference{Name: "git-auth"}},
			}
			create(t, f.src)
			f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
			obj := f.automation(t, "auto", nil)
			if c.ok {
				f.waitPushed(t, obj, "main", "")
				return
			}
			got := controllertest.WaitNotReady(t, kube, obj, imagev1.GitOperationFailedReason)
			if msg := readyMessage(got); !strings.Contains(msg, "authentication") || strings.Contains(msg, c.password) {
				t.Errorf("Ready message %q", msg)
			}
			if now := f.head("main"); now != head {
				t.Errorf("main moved from %s to %s", head, now)
			}
		})
	}
}
