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

func gitlabConfig(t *testing.T, g *fakeGitLab, o hostedOptions) hostedConfig {
	ca, err := os.ReadFile(g.caFile)
	if err != nil {
		t.Fatal(err)
	}
	o.hostname = g.hostname()
	return hostedConfig{o: &o, token: g.token, ca: ca}
}

func TestGitLabAPIRequests(t *testing.T) {
	t.Parallel()
	g := newFakeGitLab(t, "glpat-secret", "jane", "acme", "platform")
	api, err := newGitLabAPI(gitlabConfig(t, g, hostedOptions{owner: "acme", repository: "fleet"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := api.ensureRepository(ctx, repoSettings{visibility: "internal"})
	if err != nil || !r.created || r.visibility != "internal" || r.fullName != "acme/fleet" {
		t.Fatalf("ensureRepository: %+v %v", r, err)
	}
	if get, _ := g.request("GET", "/projects/{id}"); get.path != "/api/v4/projects/acme/fleet" {
		t.Errorf("project read as %+v", get)
	}
	create, _ := g.request("POST", "/api/v4/projects")
	want := map[string]any{"name": "fleet", "path": "fleet", "namespace_id": float64(g.groups["acme"]), "visibility": "internal",
		"initialize_with_readme": true}
	if !reflect.DeepEqual(create.body, want) {
		t.Errorf("create body = %v, want %v", create.body, want)
	}
	if changed, err := api.ensureTeamAccess(ctx, "platform", "maintain", false); err != nil || !changed {
		t.Fatalf("share: %v %v", changed, err)
	}
	share, _ := g.request("POST", "/share")
	if share.body["group_id"] != float64(g.groups["platform"]) || share.body["group_access"] != float64(40) {
		t.Errorf("share body = %v", share.body)
	}
	if changed, err := api.ensureTeamAccess(ctx, "platform", "maintain", true); err != nil || changed {
		t.Errorf("second share: %v %v", changed, err)
	}
	key := gittest.GenerateSSHKey(t).AuthorizedKey
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux", publicKey: key, readOnly: false}); err != nil || !change.added {
		t.Fatalf("deploy key: %+v %v", change, err)
	}
	post, _ := g.request("POST", "/deploy_keys")
	if want := map[string]any{"title": "flux", "key": key, "can_push": true}; !reflect.DeepEqual(post.body, want) {
		t.Errorf("deploy key body = %v, want %v", post.body, want)
	}
	// The same key read-only: Flux's reconciliation replaces it.
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux", publicKey: key, readOnly: true}); err != nil || !change.added || len(change.replaced) != 1 {
		t.Errorf("read-only again: %+v %v", change, err)
	}
	if keys := g.repo("acme/fleet").keys; len(keys) != 1 || !keys[0].readOnly {
		t.Errorf("keys = %+v", keys)
	}

	dt := api.(deployTokenAPI)
	tok, changed, err := dt.ensureDeployToken(ctx, "flux-system-main", "")
	if err != nil || !changed || tok.username == "" || tok.token == "" {
		t.Fatalf("deploy token: %+v %v %v", tok, changed, err)
	}
	create, _ = g.request("POST", "/deploy_tokens")
	if want := map[string]any{"name": "flux-system-main", "scopes": []any{"read_repository"}}; !reflect.DeepEqual(create.body, want) {
		t.Errorf("deploy token body = %v, want %v", create.body, want)
	}
	if _, changed, err := dt.ensureDeployToken(ctx, "flux-system-main", tok.username); err != nil || changed {
		t.Errorf("the token the secret holds was not kept: %v %v", changed, err)
	}
	// The secret lost the token: it is revoked and a new one made.
	tok2, changed, err := dt.ensureDeployToken(ctx, "flux-system-main", "")
	if err != nil || !changed || tok2.username == tok.username {
		t.Errorf("renewal: %+v %v %v", tok2, changed, err)
	}
	if tokens := g.repo("acme/fleet").tokens; len(tokens) != 1 || tokens[0].username != tok2.username {
		t.Errorf("tokens = %+v", tokens)
	}
}

func gitlabArgs(g *fakeGitLab, ns string, extra ...string) []string {
	return append([]string{"bootstrap", "gitlab", "-n", ns, "--timeout", "3m", "--owner", "acme", "--repository", "fleet",
		"--hostname", g.hostname(), "--ca-file", g.caFile, "--path", "clusters/staging"}, extra...)
}

// bootstrap gitlab twice with an SSH deploy key: one project, one key.
func TestBootstrapGitLabTwice(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	g := newFakeGitLab(t, "glpat-secret", "jane", "acme", "platform")
	vars := map[string]string{"GITLAB_TOKEN": "glpat-secret"}
	args := gitlabArgs(g, ns, "--team", "platform:push", "--read-write-key", "--ssh-key-algorithm", "ed25519")
	for run := 1; run <= 2; run++ {
		g.resetRequests()
		_, stderr, err := runFluxEnv(t, vars, args...)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, stderr)
		}
		if !strings.Contains(stderr, "✔ Kustomization reconciled successfully") {
			t.Errorf("run %d output:\n%s", run, stderr)
		}
		if run == 2 {
			if w := g.calls(true); len(w) != 0 {
				t.Errorf("second run wrote to the API: %v", w)
			}
			if strings.Contains(stderr, "created") || strings.Contains(stderr, "configured deploy key") {
				t.Errorf("second run output:\n%s", stderr)
			}
		}
	}
	repo := g.repo("acme/fleet")
	if len(g.repos) != 1 || repo.visibility != "private" || repo.teams["platform"] != "30" {
		t.Errorf("projects: %d, %+v", len(g.repos), repo)
	}
	if len(repo.keys) != 1 || repo.keys[0].readOnly || !strings.HasPrefix(repo.keys[0].key, "ssh-ed25519 ") ||
		repo.keys[0].title != ns+"-main-flux-system-clusters/staging" {
		t.Errorf("deploy keys: %+v", repo.keys)
	}
}

// --deploy-token-auth: the cluster reads over HTTPS with a project deploy
// token stored in the secret, with the CA of --ca-file.
func TestBootstrapGitLabDeployToken(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	g := newFakeGitLab(t, "glpat-secret", "jane")
	vars := map[string]string{"GITLAB_TOKEN": "glpat-secret"}
	args := gitlabArgs(g, ns, "--owner", "jane", "--personal", "--deploy-token-auth", "--visibility", "public")
	for run := 1; run <= 2; run++ {
		_, stderr, err := runFluxEnv(t, vars, args...)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, stderr)
		}
		if want := map[int]string{1: "✔ configured deploy token", 2: "✔ reconciled deploy token for source secret"}[run]; !strings.Contains(stderr, want) {
			t.Errorf("run %d output lacks %q:\n%s", run, want, stderr)
		}
	}
	repo := g.repo("jane/fleet")
	if repo == nil || repo.visibility != "public" || len(repo.tokens) != 1 || len(repo.keys) != 0 {
		t.Fatalf("project: %+v", repo)
	}
	data, _ := secretData(t, ns, "flux-system")
	if data["username"] != repo.tokens[0].username || data["password"] != repo.tokens[0].token || data["ca.crt"] == "" {
		t.Errorf("secret = %v", data)
	}
	auth, _ := git.AuthFromSecret(bootstrapURL(t, g.httpURL(repo)), map[string][]byte{
		"username": []byte("git"), "password": []byte("glpat-secret"), "ca.crt": g.gitHTTP.CAPEM})
	if sync := remoteFile(t, g.httpURL(repo), auth, "clusters/staging/flux-system/gotk-sync.yaml"); !strings.Contains(sync, "url: "+g.httpURL(repo)+"\n") {
		t.Errorf("gotk-sync.yaml does not sync over HTTPS:\n%s", sync)
	}
}

func TestBootstrapGitLabBadInput(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	g := newFakeGitLab(t, "glpat-secret", "jane", "acme")
	g.forbid("POST /api/v4/projects")
	token := map[string]string{"GITLAB_TOKEN": "glpat-secret"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no token", nil, nil, "GITLAB_TOKEN is not set"},
		{"bad project name", token, []string{"--repository", "-fleet"}, `invalid --repository "-fleet": a GitLab project name`},
		{"bad visibility", token, []string{"--visibility", "secret"}, `invalid --visibility "secret"`},
		{"both token kinds", token, []string{"--token-auth", "--deploy-token-auth"}, "--token-auth and --deploy-token-auth cannot both be set"},
		{"no scope", token, nil, "GITLAB_TOKEN may not create project acme/fleet on " + g.hostname() + " (403 Forbidden): give the token the api scope"},
		{"unknown group", token, []string{"--owner", "nobody"}, `group "nobody" not found on GitLab`},
		{"personal for another user", token, []string{"--owner", "joe", "--personal"}, `--owner "joe" does not match the user of GITLAB_TOKEN (jane)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := runFluxEnv(t, tc.vars, append(gitlabArgs(g, ns), tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.want, stderr)
			}
		})
	}
	if len(g.repos) != 0 {
		t.Errorf("bad input created projects")
	}
	assertNothingInstalled(t, ns)
}
