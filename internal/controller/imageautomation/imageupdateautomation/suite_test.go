package imageupdateautomation

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env  *testcluster.Cluster
	kube client.Client

	// hooks run before each push of the automation in their namespace.
	hooksMu sync.Mutex
	hooks   = map[string]func(attempt int){}
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startController}, &env)
}

// startController runs the ImageUpdateAutomation controller as the
// image-automation group wires it, with a hook before each push.
func startController(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	group := manager.Controller{
		Name:    "image-automation",
		Objects: []client.Object{&imagev1.ImageUpdateAutomation{}},
		Setup: func(mgr ctrl.Manager, deps manager.Deps) error {
			r := &Reconciler{Client: mgr.GetClient(), Secrets: mgr.GetAPIReader(), Git: &git.Client{}, beforePush: runHook}
			return reconcile.Start(context.Background(), mgr, r.Kind(), deps.Runtime(mgr, "image-automation-controller"))
		},
	}
	return controllertest.StartControllers(c, []manager.Controller{group}, nil)
}

func runHook(obj *imagev1.ImageUpdateAutomation, attempt int) {
	hooksMu.Lock()
	h := hooks[obj.Namespace]
	hooksMu.Unlock()
	if h != nil {
		h(attempt)
	}
}

func setHook(t *testing.T, ns string, h func(attempt int)) {
	hooksMu.Lock()
	hooks[ns] = h
	hooksMu.Unlock()
	t.Cleanup(func() {
		hooksMu.Lock()
		delete(hooks, ns)
		hooksMu.Unlock()
	})
}

// fixture is a Git repository served over HTTP and a GitRepository for it.
type fixture struct {
	ns   string
	repo *gittest.Repo
	srv  *gittest.HTTPServer
	src  *sourcev1.GitRepository
}

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	repo := gittest.NewRepo(t)
	repo.CommitFiles("main", files, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	src := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: ns},
		Spec: sourcev1.GitRepositorySpec{URL: srv.RepoURL(repo.Name()), Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	create(t, src)
	return &fixture{ns: ns, repo: repo, srv: srv, src: src}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := kube.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
}

// policy makes an ImagePolicy and sets its latestRef as the policy
// controller would.
func (f *fixture) policy(t *testing.T, name string, labels map[string]string, ref imagev1.ImageRef) *imagev1.ImagePolicy {
	t.Helper()
	pol := &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: labels},
		Spec: imagev1.ImagePolicySpec{
			ImageRepositoryRef: meta.NamespacedObjectReference{Name: name},
			Policy:             imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}},
		},
	}
	create(t, pol)
	setLatest(t, pol, ref)
	return pol
}

func setLatest(t *testing.T, pol *imagev1.ImagePolicy, ref imagev1.ImageRef) {
	t.Helper()
	if err := kube.Get(context.Background(), client.ObjectKeyFromObject(pol), pol); err != nil {
		t.Fatal(err)
	}
	pol.Status.LatestRef = &ref
	if err := kube.Status().Update(context.Background(), pol); err != nil {
		t.Fatalf("set latestRef of %s: %v", pol.Name, err)
	}
}

// automation makes an ImageUpdateAutomation of the fixture's GitRepository.
func (f *fixture) automation(t *testing.T, name string, mutate func(*imagev1.ImageUpdateAutomationSpec)) *imagev1.ImageUpdateAutomation {
	t.Helper()
	obj := &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: f.src.Name},
			Interval:  metav1.Duration{Duration: time.Hour},
			GitSpec: &imagev1.GitSpec{Commit: imagev1.CommitSpec{
				Author: imagev1.CommitUser{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com"},
			}},
		},
	}
	if mutate != nil {
		mutate(&obj.Spec)
	}
	create(t, obj)
	return obj
}

// git runs git on the bare repository and returns its trimmed output.
func (f *fixture) git(t *testing.T, args ...string) string {
	t.Helper()
	return gitIn(t, f.repo.Dir(), nil, args...)
}

func gitIn(t *testing.T, gitDir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir=" + gitDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitPushed waits for a push whose commit is now the head of branch.
func (f *fixture) waitPushed(t *testing.T, obj *imagev1.ImageUpdateAutomation, branch, after string) *imagev1.ImageUpdateAutomation {
	t.Helper()
	return controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "a push to "+branch, func(o *imagev1.ImageUpdateAutomation) bool {
		c := o.Status.LastPushCommit
		return c != "" && c != after && f.head(branch) == c && reconcile.IsTrue(o, meta.ReadyCondition)
	})
}

// head is the commit branch points to, "" when there is no such branch.
func (f *fixture) head(branch string) string {
	out, err := exec.Command("git", "--git-dir="+f.repo.Dir(), "rev-parse", "--verify", "-q", "refs/heads/"+branch).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
