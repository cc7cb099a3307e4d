package cli

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/engine/git"
	"github.com/driftless/driftless/internal/testkit/gittest"
)

func githubConfig(g *fakeGitHub, owner, repo string, personal bool) hostedConfig {
	ca, err := os.ReadFile(g.caFile)
	if err != nil {
		g.t.Fatal(err)
	}
	return hostedConfig{o: &hostedOptions{owner: owner, repository: repo, personal: personal, hostname: g.hostname()},
		token: g.token, ca: ca}
}

// The GitHub API calls, their paths and bodies, and what a second run
// leaves alone.
func TestGitHubAPIRequests(t *testing.T) {
	t.Parallel()
	g := newFakeGitHub(t, "ghp_secret", "octo", "acme")
	g.addTeam("acme", "platform")
	api, err := newGitHubAPI(githubConfig(g, "acme", "fleet", false))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := api.ensureRepository(ctx, repoSettings{visibility: "private"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.created || r.visibility != "private" || r.fullName != "acme/fleet" || r.httpURL != g.httpURL(g.repo("acme/fleet")) {
		t.Errorf("repository = %+v", r)
	}
	create, _ := g.request("POST", "/orgs/{org}/repos")
	if want := map[string]any{"name": "fleet", "private": true, "auto_init": true}; !reflect.DeepEqual(create.body, want) {
		t.Errorf("create body = %v, want %v", create.body, want)
	}
	if changed, err := api.ensureTeamAccess(ctx, "platform", "admin", false); err != nil || !changed {
		t.Fatalf("team access: %v %v", changed, err)
	}
	put, _ := g.request("PUT", "/teams/{slug}/repos/{owner}/{repo}")
	if put.path != "/api/v3/orgs/acme/teams/platform/repos/acme/fleet" || !reflect.DeepEqual(put.body, map[string]any{"permission": "admin"}) {
		t.Errorf("team request = %+v", put)
	}
	key := gittest.GenerateSSHKey(t).AuthorizedKey
	change, err := api.ensureDeployKey(ctx, deployKey{title: "flux-system-main", publicKey: key, readOnly: true})
	if err != nil || !change.added {
		t.Fatalf("deploy key: %+v %v", change, err)
	}
	post, _ := g.request("POST", "/repos/{owner}/{repo}/keys")
	if want := map[string]any{"title": "flux-system-main", "key": key, "read_only": true}; !reflect.DeepEqual(post.body, want) {
		t.Errorf("deploy key body = %v, want %v", post.body, want)
	}

	// Again: nothing is written.
	g.resetRequests()
	if r, err := api.ensureRepository(ctx, repoSettings{visibility: "private"}); err != nil || r.created || r.changed {
		t.Errorf("second ensureRepository: %+v %v", r, err)
	}
	if changed, err := api.ensureTeamAccess(ctx, "platform", "admin", true); err != nil || changed {
		t.Errorf("second team access: %v %v", changed, err)
	}
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux-system-main", publicKey: key + " comment", readOnly: true}); err != nil || change.added || change.kept != "flux-system-main" {
		t.Errorf("second deploy key: %+v %v", change, err)
	}
	if w := g.calls(true); len(w) != 0 {
		t.Errorf("second pass wrote: %v", w)
	}

	// A key with the same title but another public key is replaced.
	other := gittest.GenerateSSHKey(t).AuthorizedKey
	change, err = api.ensureDeployKey(ctx, deployKey{title: "flux-system-main", publicKey: other, readOnly: true})
	if err != nil || !change.added || !reflect.DeepEqual(change.replaced, []string{"flux-system-main"}) {
		t.Errorf("replace: %+v %v", change, err)
	}
	if keys := g.repo("acme/fleet").keys; len(keys) != 1 || keys[0].key != other {
		t.Errorf("keys after replace = %+v", keys)
	}
}

// An existing public repository is not made private without --reconcile.
func TestGitHubAPIVisibility(t *testing.T) {
	t.Parallel()
	g := newFakeGitHub(t, "ghp_secret", "octo")
	g.newRepo("octo", "fleet", "public", true)
	api, err := newGitHubAPI(githubConfig(g, "octo", "fleet", true))
	if err != nil {
		t.Fatal(err)
	}
	r, err := api.ensureRepository(context.Background(), repoSettings{visibility: "private"})
	if err != nil || r.created || r.changed || r.visibility != "public" {
		t.Errorf("without reconcile: %+v %v", r, err)
	}
	if w := g.calls(true); len(w) != 0 {
		t.Errorf("wrote without --reconcile: %v", w)
	}
	r, err = api.ensureRepository(context.Background(), repoSettings{visibility: "private", reconcile: true})
	if err != nil || !r.changed || r.visibility != "private" {
		t.Errorf("with reconcile: %+v %v", r, err)
	}
	patch, _ := g.request("PATCH", "/repos/{owner}/{repo}")
	if !reflect.DeepEqual(patch.body, map[string]any{"private": true}) {
		t.Errorf("patch body = %v", patch.body)
	}
	if _, err := newGitHubAPI(githubConfig(g, "someone", "fleet", true)); err != nil {
		t.Fatal(err)
	}
	api2, _ := newGitHubAPI(githubConfig(g, "someone", "new", true))
	if _, err := api2.ensureRepository(context.Background(), repoSettings{visibility: "private"}); err == nil ||
		!strings.Contains(err.Error(), `--owner "someone" does not match the user of GITHUB_TOKEN (octo)`) {
		t.Errorf("personal repository for another user: %v", err)
	}
}

func githubArgs(g *fakeGitHub, ns string, extra ...string) []string {
	_, port, _ := strings.Cut(g.gitSSH.Addr(), ":")
	args := []string{"bootstrap", "github", "-n", ns, "--timeout", "3m", "--owner", "acme", "--repository", "fleet",
		"--hostname", g.hostname(), "--ca-file", g.caFile, "--ssh-hostname", "127.0.0.1:" + port, "--path", "clusters/dev"}
	return append(args, extra...)
}

// bootstrap github twice against the fake API and the real Git servers:
// the repository is created private, the team granted, a read-only deploy
// key registered and used by the cluster over SSH; the second run changes
// nothing.
func TestBootstrapGitHubTwice(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	g := newFakeGitHub(t, "ghp_secret", "octo", "acme")
	g.addTeam("acme", "platform")
	vars := map[string]string{"GITHUB_TOKEN": "ghp_secret"}
	args := githubArgs(g, ns, "--team", "platform", "--author-email", "flux@example.com")

	_, stderr, err := runFluxEnv(t, vars, args...)
	if err != nil {
		t.Fatalf("bootstrap github: %v\n%s", err, stderr)
	}
	for _, want := range []string{"► connecting to " + g.hostname(), `✔ repository "acme/fleet" created`,
		`✔ granted "maintain" permissions to "platform"`, "✔ public key: ecdsa-sha2-nistp384 ",
		`✔ configured deploy key "` + ns + `-main-flux-system-clusters/dev" for "acme/fleet"`,
		"✔ pushed manifests", "✔ Kustomization reconciled successfully", "✔ bootstrap finished"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("first run output lacks %q:\n%s", want, stderr)
		}
	}
	repo := g.repo("acme/fleet")
	if repo == nil || repo.visibility != "private" || repo.teams["platform"] != "maintain" {
		t.Fatalf("repository on the fake: %+v", repo)
	}
	if len(repo.keys) != 1 || !repo.keys[0].readOnly {
		t.Fatalf("deploy keys: %+v", repo.keys)
	}
	data, secretVersion := secretData(t, ns, "flux-system")
	if strings.TrimSpace(data["identity.pub"]) != strings.TrimSpace(repo.keys[0].key) || data["known_hosts"] != g.gitSSH.KnownHosts()+"\n" {
		t.Errorf("secret does not hold the registered deploy key and the SSH host key: %v", data["known_hosts"])
	}
	if _, ok := data["password"]; ok {
		t.Error("the secret holds the API token")
	}
	auth, _ := git.AuthFromSecret(bootstrapURL(t, g.httpURL(repo)), map[string][]byte{
		"username": []byte("git"), "password": []byte("ghp_secret"), "ca.crt": g.gitHTTP.CAPEM})
	sync := remoteFile(t, g.httpURL(repo), auth, "clusters/dev/flux-system/gotk-sync.yaml")
	if want := "url: " + g.sshURL(repo) + "\n"; !strings.Contains(sync, want) {
		t.Errorf("gotk-sync.yaml lacks %q:\n%s", want, sync)
	}
	if readme := remoteFile(t, g.httpURL(repo), auth, "README.md"); readme != "# fleet\n" {
		t.Errorf("the initial README is gone: %q", readme)
	}
	head := repo.git.Head("main")
	repoGen, ksGen := generations(t, ns)

	g.resetRequests()
	_, stderr, err = runFluxEnv(t, vars, args...)
	if err != nil {
		t.Fatalf("second bootstrap github: %v\n%s", err, stderr)
	}
	if w := g.calls(true); len(w) != 0 {
		t.Errorf("second run wrote to the API: %v", w)
	}
	for _, unwanted := range []string{"created", "configured deploy key", "granted", "pushed manifests"} {
		if strings.Contains(stderr, unwanted) {
			t.Errorf("second run output has %q:\n%s", unwanted, stderr)
		}
	}
	if len(g.repos) != 1 || len(repo.keys) != 1 || repo.git.Head("main") != head {
		t.Errorf("after the second run: %d repositories, %d keys, head %s -> %s", len(g.repos), len(repo.keys), head, repo.git.Head("main"))
	}
	if _, v := secretData(t, ns, "flux-system"); v != secretVersion {
		t.Error("the second run changed the secret")
	}
	if r, k := generations(t, ns); r != repoGen || k != ksGen {
		t.Errorf("the second run changed the sync objects")
	}
}

func TestBootstrapGitHubBadInput(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	g := newFakeGitHub(t, "ghp_secret", "octo", "acme")
	token := map[string]string{"GITHUB_TOKEN": "ghp_secret"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no token", nil, nil, "GITHUB_TOKEN is not set: export a GitHub personal access token with the repo scope"},
		{"wrong token", map[string]string{"GITHUB_TOKEN": "wrong"}, nil, "GITHUB_TOKEN was rejected by " + g.hostname() + " (401 Unauthorized)"},
		{"bad owner", token, []string{"--owner", "-acme"}, `invalid --owner "-acme"`},
		{"bad repository", token, []string{"--repository", "my fleet"}, `invalid --repository "my fleet"`},
		{"bad team permission", token, []string{"--team", "platform:owner"}, `invalid permission "owner" for team "platform" in --team`},
		{"unknown organization", token, []string{"--owner", "nobody"}, `organization "nobody" not found on GitHub`},
		{"path leaves the repository", token, []string{"--path", "../x"}, "must not contain '..'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(githubArgs(g, ns), tc.args...)
			_, stderr, err := runFluxEnv(t, tc.vars, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.want, stderr)
			}
			if strings.Contains(err.Error(), "ghp_secret") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	if len(g.repos) != 0 {
		t.Errorf("bad input created repositories: %v", g.calls(true))
	}
	assertNothingInstalled(t, ns)
}

// An existing public repository and --private (the default): bootstrap
// stops before writing anything, and says which flag to change.
func TestBootstrapGitHubVisibilityMismatch(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	g := newFakeGitHub(t, "ghp_secret", "octo", "acme")
	g.newRepo("acme", "fleet", "public", true)
	_, stderr, err := runFluxEnv(t, map[string]string{"GITHUB_TOKEN": "ghp_secret"}, githubArgs(g, ns)...)
	want := `repository "acme/fleet" is public but --private=true asks for private: nothing was changed`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--reconcile") {
		t.Fatalf("err = %v, want %q\n%s", err, want, stderr)
	}
	if w := g.calls(true); len(w) != 0 {
		t.Errorf("a refused bootstrap wrote to the API: %v", w)
	}
	if head := g.repo("acme/fleet").git.Head("main"); head == "" {
		t.Fatal("the repository lost its branch")
	}
	assertNothingInstalled(t, ns)
}

// A token without the scope to add deploy keys: the repository was
// created, the error names the token and scope and says what was done.
func TestBootstrapGitHubForbidden(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	g := newFakeGitHub(t, "ghp_secret", "octo", "acme")
	g.forbid("POST /api/v3/repos/{owner}/{repo}/keys")
	_, stderr, err := runFluxEnv(t, map[string]string{"GITHUB_TOKEN": "ghp_secret"}, githubArgs(g, ns)...)
	var want = "GITHUB_TOKEN may not add deploy key to acme/fleet on " + g.hostname() + " (403 Forbidden): give the token the repo scope"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q\n%s", err, want, stderr)
	}
	if !strings.Contains(err.Error(), "already done on "+g.hostname()+": created private repository acme/fleet") {
		t.Errorf("the error does not say the repository was created: %v", err)
	}
	if repo := g.repo("acme/fleet"); repo == nil || repo.git.Head("main") == "" || len(repo.keys) != 0 {
		t.Errorf("fake state after the refusal: %+v", repo)
	}
	if strings.Contains(stderr, "pushed manifests") {
		t.Errorf("pushed although the deploy key was refused:\n%s", stderr)
	}
	assertNothingInstalled(t, ns)
}
