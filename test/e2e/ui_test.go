package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/testkit/browser"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// TestUIInTheCluster walks the in-cluster UI as its users would, in
// chromium-headless-shell, with the real controller (run with the installed
// ServiceAccount's token, serving --web-addr) and a real Git server:
// an "editor" ServiceAccount logs in with its token, sees its namespace and
// nothing of another, watches a broken commit turn its Kustomization Not
// ready without a reload, then Reconciles, Suspends and Resumes from the
// page; a "viewer" sees no buttons and its forged POST gets the API
// server's 403; the editor, once its Role loses patch, is refused the same
// way. Every page stays on the UI's own origin, with no CSP violation.
func TestUIInTheCluster(t *testing.T) {
	b := browser.Start(t)
	sys := "ui-system-" + randomSuffix()
	t.Cleanup(func() { removeInstall(t, sys) })
	mustFlux(t, "install", "-n", sys, "--components", "source-controller,kustomize-controller", "--timeout", "3m")
	addr := freeAddr(t)
	startController(t, serviceAccountKubeconfig(t, sys, "driftless-controller"),
		"--runtime-namespace", sys, "--enable-leader-election", "--leader-election-id", "driftless-"+sys,
		"--web-addr", addr, "--web-hosts", "127.0.0.1", "--web-action-timeout", "45s")
	origin := "http://" + addr

	repo := gittest.NewRepo(t)
	repo.CommitFiles(gittest.DefaultBranch, appFiles("hello"), "app v1")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns := env.Namespace(t)
	target := ns + "-apps"
	createNamespace(t, target)
	mustFlux(t, "-n", ns, "create", "source", "git", "app", "--url", srv.RepoURL(repo.Name()), "--branch", gittest.DefaultBranch, "--interval", "1h")
	mustFlux(t, "-n", ns, "create", "kustomization", "app", "--source", "GitRepository/app", "--path", "./deploy",
		"--prune", "--wait", "--target-namespace", target, "--interval", "1h")
	// Another team's namespace, which the editor must not see a trace of.
	hidden := env.Namespace(t)
	mustFlux(t, "-n", hidden, "create", "source", "git", "secret-project", "--url", srv.RepoURL(repo.Name()),
		"--branch", gittest.DefaultBranch, "--interval", "1h")

	editorToken := uiAccount(t, ns, "editor", "get", "list", "watch", "patch")
	viewerToken := uiAccount(t, ns, "viewer", "get", "list", "watch")
	page := "/o/kustomize.toolkit.fluxcd.io/Kustomization/" + ns + "/app"

	// Without a session: the login page and nothing else.
	login := b.Open(t, origin+"/")
	if h := login.Text("h1"); h != "Log in" || strings.Contains(login.Text("body"), ns) {
		t.Fatalf("without a session: h1 %q, body:\n%s", h, login.Text("body"))
	}
	login.Type("#token", editorToken)
	login.Submit("#token")
	if h := login.Text("h1"); h != "Overview" {
		t.Fatalf("after logging in: h1 %q, body:\n%s", h, login.Text("main"))
	}
	// The tabs share the session cookie; this one's console has seen no
	// 401 of the login page.
	p := b.Open(t, origin+"/")

	t.Run("visibility", func(t *testing.T) {
		p.Navigate(origin + "/")
		body := p.Text("body")
		if !strings.Contains(body, ns) || strings.Contains(body, hidden) || strings.Contains(body, "secret-project") {
			t.Errorf("the editor's overview shows %s: %v, and %s: %v\n%s", ns, strings.Contains(body, ns), hidden, strings.Contains(body, hidden), body)
		}
		for _, path := range []string{"/graph", "/graph.json", "/?q=secret"} {
			if got := uiFetch(t, p, path); strings.Contains(got, "secret-project") || strings.Contains(got, hidden) {
				t.Errorf("%s mentions the hidden namespace:\n%s", path, got)
			}
		}
		p.Screenshots("overview")
		p.CheckClean(origin)
	})

	t.Run("live update without reload", func(t *testing.T) {
		p.Navigate(origin + page)
		uiWait(t, p, "the page to say Ready", `document.querySelector('#state').innerText.includes('Ready')`)
		browser.Evaluate[bool](p, "(window.__marker = 'still here', true)")
		repo.CommitFiles(gittest.DefaultBranch, map[string]string{"deploy/kustomization.yaml": "resources:\n- missing.yaml\n"}, "break it")
		requestReconcile(t, ns, "gitrepositories", "app")
		uiWait(t, p, "the header to turn Not ready with the controller's message",
			`document.querySelector('#state').innerText.includes('Not ready') && document.querySelector('#state').innerText.includes('missing.yaml')`)
		p.Screenshots("kustomization-broken")
		repo.CommitFiles(gittest.DefaultBranch, appFiles("fixed"), "fix it")
		requestReconcile(t, ns, "gitrepositories", "app")
		uiWait(t, p, "the header to turn Ready again",
			`!document.querySelector('#state').innerText.includes('Not ready') && document.querySelector('#state').innerText.includes('Ready')`)
		if n := browser.Evaluate[int](p, "performance.getEntriesByType('navigation').length"); n != 1 {
			t.Errorf("%d navigations, want 1: the page reloaded", n)
		}
		if m := browser.Evaluate[string](p, "window.__marker || ''"); m != "still here" {
			t.Errorf("the marker set at load is gone (%q): the page reloaded", m)
		}
		p.CheckClean(origin)
	})

	t.Run("actions as the editor", func(t *testing.T) {
		p.Navigate(origin + page)
		p.Click(`form[action$="/reconcile"] button`)
		token := requestedToken(t, p)
		testcluster.Eventually(t, 60*time.Second, "the controller to handle the page's request", func() (bool, error) {
			return nested(t, ns, "app", "status", "lastHandledReconcileAt") == token, nil
		})
		uiWait(t, p, "the request to be handled and Ready", `document.querySelector('.request') && document.querySelector('.request').innerText.includes('Handled and Ready')`)
		if got := nested(t, ns, "app", "status", "lastHandledReconcileAt"); got != token {
			t.Errorf("lastHandledReconcileAt = %q, want the page's token %q", got, token)
		}
		p.Click(`form[action$="/suspend"] button`)
		if !suspended(t, ns, "app") {
			t.Fatal("spec.suspend is not true after Suspend")
		}
		uiWait(t, p, "the badge to say Suspended", `document.querySelector('#state').innerText.includes('Suspended')`)
		if n := p.Count(`form[action$="/reconcile"]`); n != 0 {
			t.Errorf("a suspended object offers Reconcile (%d forms)", n)
		}
		p.Screenshots("kustomization-suspended")
		p.Click(`form[action$="/resume"] button`)
		token = requestedToken(t, p)
		if suspended(t, ns, "app") {
			t.Fatal("spec.suspend is still true after Resume and reconcile")
		}
		uiWait(t, p, "the resumed object to be handled", `document.querySelector('.request') && document.querySelector('.request').innerText.includes('Handled')`)
		if got := nested(t, ns, "app", "status", "lastHandledReconcileAt"); got != token {
			t.Errorf("lastHandledReconcileAt = %q after resume, want %q", got, token)
		}
		p.CheckClean(origin)
	})

	t.Run("denied without RBAC", func(t *testing.T) {
		c := uiLogin(t, origin, viewerToken)
		body := uiGetBody(t, c, origin+page)
		if strings.Contains(body, `class="action"`) || !strings.Contains(body, "You may not patch this object") {
			t.Errorf("the viewer's page shows action forms, or no word why not")
		}
		csrf := between(body, `<meta name="csrf-token" content="`, `"`)
		before := resourceVersion(t, ns, "app")
		code, answer := uiPost(t, c, origin, page+"/suspend", csrf)
		if code != http.StatusForbidden || !strings.Contains(answer, "system:serviceaccount:"+ns+":viewer") || !strings.Contains(answer, "cannot patch resource") {
			t.Errorf("the viewer's forged POST: %d, want the API server's 403 naming the viewer and patch:\n%s", code, answer)
		}
		if after := resourceVersion(t, ns, "app"); after != before {
			t.Errorf("the refused POST changed the object: resourceVersion %s → %s", before, after)
		}
	})

	t.Run("local mode", func(t *testing.T) { checkLocalUI(t, ns, repo, serviceAccountKubeconfig(t, ns, "editor")) })

	t.Run("editor loses patch after the page loaded", func(t *testing.T) {
		p.Navigate(origin + page)
		if p.Count(`form[action$="/suspend"]`) != 1 {
			t.Fatal("the editor's page has no Suspend button")
		}
		role, err := env.Kube.RbacV1().Roles(ns).Get(context.Background(), "editor", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		role.Rules[0].Verbs = []string{"get", "list", "watch"}
		if _, err := env.Kube.RbacV1().Roles(ns).Update(context.Background(), role, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		before := resourceVersion(t, ns, "app")
		// The role change reaches the API server's authorizer within a
		// moment; the UI's cached review (30 s) may keep the button a while,
		// which is the point: the click is refused by the API server.
		testcluster.Eventually(t, 30*time.Second, "the API server to refuse the editor's suspend", func() (bool, error) {
			p.Navigate(origin + page)
			if p.Count(`form[action$="/suspend"]`) == 1 {
				p.Click(`form[action$="/suspend"] button`)
				return strings.Contains(p.Text("body"), "cannot patch resource"), nil
			}
			// The review's answer ran out: the same POST, forged with the
			// page's session and CSRF token, must be refused the same way.
			answer := browser.Evaluate[string](p, `(() => { const x = new XMLHttpRequest(); x.open('POST', `+jsQuote(page+"/suspend")+`, false);
x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
x.send('csrf_token=' + encodeURIComponent(document.querySelector('meta[name=csrf-token]').content)); return x.status + ' ' + x.responseText; })()`)
			return strings.HasPrefix(answer, "403 ") && strings.Contains(answer, "cannot patch resource"), nil
		})
		if after := resourceVersion(t, ns, "app"); after != before || suspended(t, ns, "app") {
			t.Errorf("the refused click changed the object (resourceVersion %s → %s)", before, after)
		}
	})
}

// uiAccount makes a ServiceAccount with a Role of verbs on Kustomizations
// (and read on GitRepositories) in ns, and returns a token of it.
func uiAccount(t *testing.T, ns, name string, verbs ...string) string {
	t.Helper()
	ctx := context.Background()
	kube := env.Kube
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"kustomize.toolkit.fluxcd.io"}, Resources: []string{"kustomizations"}, Verbs: verbs},
		{APIGroups: []string{"source.toolkit.fluxcd.io"}, Resources: []string{"gitrepositories"}, Verbs: []string{"get", "list", "watch"}},
	}}
	if _, err := kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}
	if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := "system:serviceaccount:" + ns + ":" + name
	for _, verb := range verbs {
		env.WaitAllowed(t, sa, []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			verb, "kustomize.toolkit.fluxcd.io", "kustomizations", ns)
	}
	expiry := int64(3600)
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// uiWait polls the page until expression is true (90 s at most: a
// reconciliation is on the way).
func uiWait(t *testing.T, p *browser.Page, what, expression string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !browser.Evaluate[bool](p, expression) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the page says:\n%s\nconsole: %q\nrequests: %q", what, p.Text("main"), p.Console(), p.Requests())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// uiFetch reads path with the page's session (same origin, its cookie).
func uiFetch(t *testing.T, p *browser.Page, path string) string {
	t.Helper()
	return browser.Evaluate[string](p, `(() => { const x = new XMLHttpRequest(); x.open('GET', `+jsQuote(path)+`, false); x.send(); return x.responseText; })()`)
}

func jsQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// requestedToken is the request token the action redirected the page with.
func requestedToken(t *testing.T, p *browser.Page) string {
	t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("request")
	if token == "" {
		t.Fatalf("the action did not redirect with its token: %s\n%s", p.URL(), p.Text("main"))
	}
	return token
}

// requestReconcile asks the controller to reconcile an object now, as admin.
func requestReconcile(t *testing.T, ns, resource, name string) {
	t.Helper()
	patch := `{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"` + time.Now().Format(time.RFC3339Nano) + `"}}}`
	gvr := gitRepositories
	if resource != "gitrepositories" {
		gvr = kustomizations
	}
	if _, err := env.Dynamic.Resource(gvr).Namespace(ns).Patch(context.Background(), name, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func nested(t *testing.T, ns, name string, fields ...string) string {
	t.Helper()
	ks, err := env.Dynamic.Resource(kustomizations).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := unstructured.NestedString(ks.Object, fields...)
	return v
}

func resourceVersion(t *testing.T, ns, name string) string {
	t.Helper()
	ks, err := env.Dynamic.Resource(kustomizations).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ks.GetResourceVersion()
}

// uiLogin logs in with token over plain HTTP and returns the client that
// holds the session cookie.
func uiLogin(t *testing.T, origin, token string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, origin+"/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return c
}

func uiGetBody(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}

func uiPost(t *testing.T, c *http.Client, origin, path, csrf string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, origin+path, strings.NewReader(url.Values{"csrf_token": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var localUIURL = regexp.MustCompile(`Open (http://127\.0\.0\.1:[0-9]+)/\?token=([A-Za-z0-9_-]+)`)

// checkLocalUI runs bin/flux ui with the editor's kubeconfig (rights in
// ns only, so its informers fall back to that namespace) and walks the
// same scenarios in its own browser (its own cookies): the one-time URL
// logs in, the overview shows the Kustomization Ready, a broken commit
// turns the page Not ready without a reload and the fix turns it back,
// and Reconcile acts with the kubeconfig's credentials. Without the token,
// or from another Host, it answers 403.
func checkLocalUI(t *testing.T, ns string, repo *gittest.Repo, kubeconfig string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.flux, "--kubeconfig", kubeconfig, "ui", "--port", "0")
	var out, errOut syncWriter
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	var m []string
	testcluster.Eventually(t, time.Minute, "flux ui to print its URL", func() (bool, error) {
		m = localUIURL.FindStringSubmatch(out.String())
		return m != nil, nil
	})
	origin, token := m[1], m[2]

	for name, req := range map[string]func() *http.Request{
		"no token": func() *http.Request { r, _ := http.NewRequest(http.MethodGet, origin+"/", nil); return r },
		"another Host": func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, origin+"/?token="+token, nil)
			r.Host = "evil.example"
			return r
		},
	} {
		resp, err := http.DefaultClient.Do(req())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}

	b := browser.Start(t)
	p := b.Open(t, origin+"/?token="+token)
	if u := p.URL(); u != origin+"/" {
		t.Errorf("after the one-time URL the browser is at %s, want %s/ without the token", u, origin)
	}
	if body := p.Text("body"); !strings.Contains(body, "showing namespace "+ns) || !strings.Contains(body, "app") {
		t.Errorf("the local overview does not show %s/app, limited to its namespace:\n%s", ns, body)
	}
	page := origin + "/o/kustomize.toolkit.fluxcd.io/Kustomization/" + ns + "/app"
	p.Navigate(page)
	uiWait(t, p, "the page to say Ready", `document.querySelector('#state').innerText.includes('Ready')`)
	browser.Evaluate[bool](p, "(window.__marker = 'still here', true)")
	repo.CommitFiles(gittest.DefaultBranch, map[string]string{"deploy/kustomization.yaml": "resources:\n- gone.yaml\n"}, "break it again")
	requestReconcile(t, ns, "gitrepositories", "app")
	uiWait(t, p, "the header to turn Not ready", `document.querySelector('#state').innerText.includes('Not ready') && document.querySelector('#state').innerText.includes('gone.yaml')`)
	repo.CommitFiles(gittest.DefaultBranch, appFiles("local"), "fix it again")
	requestReconcile(t, ns, "gitrepositories", "app")
	uiWait(t, p, "the header to turn Ready again", `!document.querySelector('#state').innerText.includes('Not ready')`)
	if m := browser.Evaluate[string](p, "window.__marker || ''"); m != "still here" {
		t.Errorf("the page reloaded (marker %q)", m)
	}
	p.Screenshots("local-kustomization")
	p.CheckClean(origin)

	p.Click(`form[action$="/reconcile"] button`)
	requested := requestedToken(t, p)
	testcluster.Eventually(t, 60*time.Second, "the controller to handle the local page's request", func() (bool, error) {
		return nested(t, ns, "app", "status", "lastHandledReconcileAt") == requested, nil
	})
	uiWait(t, p, "the local page to say the request was handled", `document.querySelector('.request') && document.querySelector('.request').innerText.includes('Handled')`)
}

// syncWriter is a bytes.Buffer safe for a process's writes and a test's reads.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestUIAnonymousReads: with --web-anonymous-user and a RoleBinding of its
// group to a read-only Role in one namespace, a visitor who has not logged
// in sees that namespace's objects with their true state, nothing of
// another, and no action; a forged POST gets 401. Without the flag the
// login page is all there is (TestUIInTheCluster's first step).
func TestUIAnonymousReads(t *testing.T) {
	b := browser.Start(t)
	sys := "ui-anon-" + randomSuffix()
	t.Cleanup(func() { removeInstall(t, sys) })
	mustFlux(t, "install", "-n", sys, "--components", "source-controller,kustomize-controller", "--timeout", "3m")
	addr := freeAddr(t)
	startController(t, serviceAccountKubeconfig(t, sys, "driftless-controller"),
		"--runtime-namespace", sys, "--enable-leader-election", "--leader-election-id", "driftless-"+sys,
		"--web-addr", addr, "--web-hosts", "127.0.0.1", "--web-anonymous-user")
	origin := "http://" + addr

	repo := gittest.NewRepo(t)
	repo.CommitFiles(gittest.DefaultBranch, appFiles("anonymous"), "app")
	srv := gittest.NewHTTPServer(t, repo.Root(), gittest.HTTPOptions{})
	ns, hidden := env.Namespace(t), env.Namespace(t)
	target := ns + "-apps"
	createNamespace(t, target)
	mustFlux(t, "-n", ns, "create", "source", "git", "app", "--url", srv.RepoURL(repo.Name()), "--branch", gittest.DefaultBranch, "--interval", "1h")
	mustFlux(t, "-n", ns, "create", "kustomization", "app", "--source", "GitRepository/app", "--path", "./deploy",
		"--prune", "--wait", "--target-namespace", target, "--interval", "1h")
	mustFlux(t, "-n", hidden, "create", "source", "git", "secret-project", "--url", srv.RepoURL(repo.Name()),
		"--branch", gittest.DefaultBranch, "--interval", "1h")

	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "web-viewers"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"kustomize.toolkit.fluxcd.io"}, Resources: []string{"kustomizations"}, Verbs: []string{"get", "list", "watch", "patch"}},
		{APIGroups: []string{"source.toolkit.fluxcd.io"}, Resources: []string{"gitrepositories"}, Verbs: []string{"get", "list", "watch"}},
	}}
	if _, err := env.Kube.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "web-viewers"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "driftless:web:viewers"}}}
	if _, err := env.Kube.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, resource := range []string{"kustomizations", "gitrepositories"} {
		group := "kustomize.toolkit.fluxcd.io"
		if resource == "gitrepositories" {
			group = "source.toolkit.fluxcd.io"
		}
		env.WaitAllowed(t, "driftless:web:anonymous", []string{"driftless:web:viewers"}, "list", group, resource, ns)
	}

	p := b.Open(t, origin+"/")
	body := p.Text("body")
	if !strings.Contains(body, ns) || strings.Contains(body, hidden) || strings.Contains(body, "secret-project") {
		t.Errorf("the anonymous overview shows %s: %v, %s: %v\n%s", ns, strings.Contains(body, ns), hidden, strings.Contains(body, hidden), body)
	}
	page := origin + "/o/kustomize.toolkit.fluxcd.io/Kustomization/" + ns + "/app"
	p.Navigate(page)
	uiWait(t, p, "the page to say Ready", `document.querySelector('#state').innerText.includes('Ready')`)
	if n := p.Count(`form.action`); n != 0 {
		t.Errorf("the anonymous visitor sees %d action forms, though its role even allows patch", n)
	}
	if !strings.Contains(p.Text("#state"), "Log in to act on this object") {
		t.Errorf("the page does not say why there are no actions:\n%s", p.Text("#state"))
	}
	p.Screenshots("anonymous-kustomization")
	p.CheckClean(origin)
	before := resourceVersion(t, ns, "app")
	answer := browser.Evaluate[string](p, `(() => { const x = new XMLHttpRequest(); x.open('POST', `+jsQuote(strings.TrimPrefix(page, origin)+"/suspend")+`, false);
x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); x.send(''); return x.status + ' ' + x.responseText; })()`)
	if !strings.HasPrefix(answer, "401 ") || !strings.Contains(answer, "log in to act") {
		t.Errorf("an anonymous POST: %.200s, want 401 log in to act", answer)
	}
	if after := resourceVersion(t, ns, "app"); after != before {
		t.Errorf("the anonymous POST changed the object")
	}
}
