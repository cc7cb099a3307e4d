package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

var (
	env *testcluster.Cluster
	bin string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: build}, &env)
}

// build compiles the binary under test once.
func build(*testcluster.Cluster) (func(), error) {
	dir, err := os.MkdirTemp("", "driftless-controller-bin-")
	if err != nil {
		return nil, err
	}
	bin = filepath.Join(dir, "driftless-controller")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return func() { os.RemoveAll(dir) }, nil
}

var gitrepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}

// instance is one running driftless-controller process.
type instance struct {
	cmd                      *exec.Cmd
	storage, metrics, health string
	log                      *os.File
	exited                   chan error
}

func start(t *testing.T, extra ...string) *instance {
	t.Helper()
	in := &instance{storage: addr(t), metrics: addr(t), health: addr(t), exited: make(chan error, 1)}
	var err error
	if in.log, err = os.CreateTemp(t.TempDir(), "log-"); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--kubeconfig", env.Kubeconfig(),
		"--storage-path", t.TempDir(), "--image-storage-path", t.TempDir(),
		"--storage-addr", in.storage, "--storage-adv-addr", in.storage,
		"--metrics-addr", in.metrics, "--health-addr", in.health,
		"--events-listen-addr", addr(t), "--receiver-addr", addr(t),
		"--log-encoding", "console",
	}, extra...)
	in.cmd = exec.Command(bin, args...)
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.exited <- in.cmd.Wait() }()
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(in.log.Name())
			t.Logf("driftless-controller log:\n%s", b)
		}
	})
	return in
}

func addr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func gitRepository(t *testing.T, ns, name, url string) {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"interval": "1h", "url": url, "ref": map[string]any{"branch": "main"}},
	}}
	if _, err := env.Dynamic.Resource(gitrepositories).Namespace(ns).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitArtifact waits until the GitRepository is Ready at revision and returns the artifact URL.
func waitArtifact(t *testing.T, ns, name, revision string) string {
	t.Helper()
	var url string
	testcluster.Eventually(t, 60*time.Second, "GitRepository Ready at "+revision, func() (bool, error) {
		o, err := env.Dynamic.Resource(gitrepositories).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		rev, _, _ := unstructured.NestedString(o.Object, "status", "artifact", "revision")
		url, _, _ = unstructured.NestedString(o.Object, "status", "artifact", "url")
		conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
		for _, c := range conds {
			m := c.(map[string]any)
			if m["type"] == "Ready" && m["status"] == "True" && rev == revision {
				return true, nil
			}
		}
		return false, nil
	})
	return url
}

func TestRunsAgainstAClusterFromKubeconfig(t *testing.T) {
	repo := gittest.NewRepo(t)
	hash := repo.CommitFiles("main", map[string]string{"app.yaml": "kind: ConfigMap"}, "init")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	in := start(t, "--enable-pprof")

	gitRepository(t, ns, "app", srv.RepoURL(repo.Name()))
	url := waitArtifact(t, ns, "app", "main@sha1:"+hash)
	if !strings.HasPrefix(url, "http://"+in.storage+"/gitrepository/"+ns+"/app/") {
		t.Errorf("artifact URL %s does not use --storage-adv-addr", url)
	}
	if code, _ := get(url); code != http.StatusOK {
		t.Errorf("artifact server answered %d", code)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get("http://" + in.health + path); code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	code, body := get("http://" + in.metrics + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `gotk_reconcile_duration_seconds_count{kind="GitRepository",name="app",namespace="`+ns+`"}`) {
		t.Errorf("metrics (%d) lack gotk_reconcile_duration_seconds for the GitRepository", code)
	}
	if code, body := get("http://" + in.metrics + "/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("pprof goroutine profile with --enable-pprof: %d %.200s", code, body)
	}

	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-in.exited:
		if err != nil {
			t.Errorf("SIGTERM: exit %v, want 0", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("did not stop within 45s of SIGTERM")
	}
}

func TestRefusesBadFlagsClearly(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--controllers=sorcery"}, `unknown controller "sorcery"`},
		{[]string{"--kubeconfig=/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig"},
		{[]string{"--watch-label-selector=a in (b"}, "--watch-label-selector"},
	} {
		out, err := exec.Command(bin, append(tc.args, "--metrics-addr=0", "--health-addr=0")...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: err %v, output %q; want it to mention %q", tc.args, err, out, tc.want)
		}
	}
}

// TestLeaderElectionTakeover runs two managers; only the leader reconciles
// and serves artifacts, and when it is killed the other takes over.
func TestLeaderElectionTakeover(t *testing.T) {
	repo := gittest.NewRepo(t)
	first := repo.CommitFiles("main", map[string]string{"v": "1"}, "one")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	election := []string{"--enable-leader-election", "--runtime-namespace", ns,
		"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=500ms"}
	a, b := start(t, election...), start(t, election...)

	gitRepository(t, ns, "app", srv.RepoURL(repo.Name()))
	url := waitArtifact(t, ns, "app", "main@sha1:"+first)
	leader, follower := a, b
	if strings.Contains(url, b.storage) {
		leader, follower = b, a
	}
	if code, _ := get("http://" + follower.storage + "/"); code != 0 {
		t.Errorf("the follower serves artifacts (HTTP %d); only the leader may", code)
	}

	_ = leader.cmd.Process.Kill()
	second := repo.CommitFiles("main", map[string]string{"v": "2"}, "two")
	patch := []byte(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"takeover"}}}`)
	if _, err := env.Dynamic.Resource(gitrepositories).Namespace(ns).Patch(context.Background(), "app", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	url = waitArtifact(t, ns, "app", "main@sha1:"+second)
	if !strings.Contains(url, follower.storage) {
		t.Errorf("the new artifact %s is not served by the new leader %s", url, follower.storage)
	}
	if code, _ := get(url); code != http.StatusOK {
		t.Errorf("new leader's artifact server answered %d", code)
	}
}

// TestWebUIServedWhileNotLeader holds the lease for someone else: the
// replica reconciles nothing (no artifact server) yet serves the UI, and
// /readyz does not depend on it.
func TestWebUIServedWhileNotLeader(t *testing.T) {
	ns := env.Namespace(t)
	holder, duration := "someone-else", int32(3600)
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "driftless-controller-leader-election", Namespace: ns},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration, AcquireTime: &now, RenewTime: &now}}
	if _, err := env.Kube.CoordinationV1().Leases(ns).Create(context.Background(), lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	gitRepository(t, ns, "seen-by-follower", "http://127.0.0.1:1/none.git")
	web := addr(t)
	in := start(t, "--enable-leader-election", "--runtime-namespace", ns, "--web-addr", web)
	// Every page needs a session: log in as a ServiceAccount that may
	// read GitRepositories in ns (the UI shows only what the viewer may).
	browser := viewerSession(t, ns, "http://"+web)
	testcluster.Eventually(t, 60*time.Second, "the UI served by a follower, listing the GitRepository from its cache", func() (bool, error) {
		resp, err := browser.Get("http://" + web + "/")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "seen-by-follower"), nil
	})
	if code, body := get("http://" + web + "/"); code != http.StatusUnauthorized || strings.Contains(body, "seen-by-follower") {
		t.Errorf("without a session: HTTP %d, want 401 and the login page", code)
	}
	if code, body := get("http://" + in.health + "/readyz?verbose"); code != http.StatusOK || regexp.MustCompile(`\[[+-]\]web(\s|-ui)`).MatchString(body) {
		t.Errorf("/readyz: %d %s; want 200 with no web check", code, body)
	}
	if code, _ := get("http://" + in.storage + "/"); code != 0 {
		t.Errorf("the follower serves artifacts (HTTP %d): it took the lease held elsewhere", code)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+web+"/", nil)
	req.Host = "evil.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a foreign Host: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-in.exited:
		if err != nil {
			t.Errorf("SIGTERM: exit %v, want 0", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("did not stop within 45s of SIGTERM")
	}
	if code, _ := get("http://" + web + "/"); code != 0 {
		t.Errorf("the UI still answers (%d) after the process stopped", code)
	}
}

// viewerSession logs in to the UI at origin with the token of a new
// ServiceAccount allowed to read GitRepositories in ns, and returns a
// client holding the session cookie. The login is retried until the UI
// answers.
func viewerSession(t *testing.T, ns, origin string) *http.Client {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-viewer"}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-viewer"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{"source.toolkit.fluxcd.io"}, Resources: []string{"gitrepositories"}, Verbs: []string{"get", "list", "watch"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-viewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "web-viewer"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "web-viewer", Namespace: ns}}}
	if _, err := env.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := env.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "web-viewer", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	testcluster.Eventually(t, 60*time.Second, "a login to the UI", func() (bool, error) {
		req, _ := http.NewRequest(http.MethodPost, origin+"/login", strings.NewReader(url.Values{"token": {tr.Status.Token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		resp, err := client.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		u, _ := url.Parse(origin)
		return resp.StatusCode == http.StatusOK && len(jar.Cookies(u)) > 0, nil
	})
	return client
}

func TestWebTLSFlagsGoTogether(t *testing.T) {
	out, err := exec.Command(bin, "--web-addr=127.0.0.1:0", "--web-tls-cert=/tmp/c.pem", "--metrics-addr=0", "--health-addr=0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--web-tls-cert and --web-tls-key go together") {
		t.Errorf("--web-tls-cert alone: err %v, output %q", err, out)
	}
}
