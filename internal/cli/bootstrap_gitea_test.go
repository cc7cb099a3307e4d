package cli

import (
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// newFakeGitea is Gitea's REST API v1 with the token in
// `Authorization: token`. user is the token's login; orgs and their teams
// exist.
func newFakeGitea(t *testing.T, token, user string, orgTeams map[string][]string) *fakeHost {
	h := newFakeHost(t, token, func(r *http.Request, token string) bool {
		return r.Header.Get("Authorization") == "token "+token
	})
	notFound := func(w http.ResponseWriter) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "The target couldn't be found."})
	}
	repoJSON := func(r *fakeRepo) map[string]any {
		return map[string]any{"name": r.name, "full_name": r.owner + "/" + r.name, "private": r.visibility == "private",
			"clone_url": h.httpURL(r), "ssh_url": h.sshURL(r), "default_branch": "main"}
	}
	create := func(owner string, w http.ResponseWriter, body map[string]any) {
		name, _ := body["name"].(string)
		private, _ := body["private"].(bool)
		init, _ := body["auto_init"].(bool)
		writeJSON(w, http.StatusCreated, repoJSON(h.newRepo(owner, name, map[bool]string{true: "private", false: "public"}[private], init)))
	}
	repoOf := func(w http.ResponseWriter, r *http.Request) *fakeRepo {
		repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if repo == nil {
			notFound(w)
		}
		return repo
	}
	h.handle("GET /api/v1/user", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, map[string]any{"id": 1, "login": user})
	})
	h.handle("GET /api/v1/repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			writeJSON(w, http.StatusOK, repoJSON(repo))
		}
	})
	h.handle("PATCH /api/v1/repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			if p, ok := body["private"].(bool); ok {
				repo.visibility = map[bool]string{true: "private", false: "public"}[p]
			}
			writeJSON(w, http.StatusOK, repoJSON(repo))
		}
	})
	h.handle("POST /api/v1/user/repos", func(w http.ResponseWriter, _ *http.Request, body map[string]any) { create(user, w, body) })
	h.handle("POST /api/v1/orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if _, ok := orgTeams[r.PathValue("org")]; !ok {
			notFound(w)
			return
		}
		create(r.PathValue("org"), w, body)
	})
	keyJSON := func(k fakeKey) map[string]any {
		return map[string]any{"id": k.id, "title": k.title, "key": k.key, "read_only": k.readOnly}
	}
	h.handle("GET /api/v1/repos/{owner}/{repo}/keys", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			out := []map[string]any{}
			for _, k := range repo.keys {
				out = append(out, keyJSON(k))
			}
			writeJSON(w, http.StatusOK, out)
		}
	})
	h.handle("POST /api/v1/repos/{owner}/{repo}/keys", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			k := fakeKey{id: h.id()}
			k.title, _ = body["title"].(string)
			k.key, _ = body["key"].(string)
			k.readOnly, _ = body["read_only"].(bool)
			repo.keys = append(repo.keys, k)
			writeJSON(w, http.StatusCreated, keyJSON(k))
		}
	})
	h.handle("DELETE /api/v1/repos/{owner}/{repo}/keys/{id}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
			for i, k := range repo.keys {
				if k.id == id {
					repo.keys = append(repo.keys[:i], repo.keys[i+1:]...)
				}
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
	h.handle("GET /api/v1/repos/{owner}/{repo}/teams/{team}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			if repo.teams[r.PathValue("team")] == "" {
				notFound(w)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": 7, "name": r.PathValue("team"), "permission": "write"})
		}
	})
	h.handle("PUT /api/v1/repos/{owner}/{repo}/teams/{team}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			team := r.PathValue("team")
			for _, known := range orgTeams[repo.owner] {
				if known == team {
					repo.teams[team] = "write"
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "team does not exist"})
		}
	})
	return h
}

func TestGiteaAPIRequests(t *testing.T) {
	t.Parallel()
	h := newFakeGitea(t, "gt-secret", "gitty", map[string][]string{"acme": {"platform"}})
	ca, _ := os.ReadFile(h.caFile)
	api, err := newGiteaAPI(hostedConfig{o: &hostedOptions{owner: "acme", repository: "fleet", hostname: h.hostname()}, token: h.token, ca: ca})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := api.ensureRepository(ctx, repoSettings{visibility: "private"})
	if err != nil || !r.created || r.visibility != "private" || r.sshURL != h.sshURL(h.repo("acme/fleet")) {
		t.Fatalf("ensureRepository: %+v %v", r, err)
	}
	create, _ := h.request("POST", "/api/v1/orgs/{org}/repos")
	if create.body["name"] != "fleet" || create.body["private"] != true || create.body["auto_init"] != true {
		t.Errorf("create body = %v", create.body)
	}
	if changed, err := api.ensureTeamAccess(ctx, "platform", "maintain", false); err != nil || !changed {
		t.Fatalf("team: %v %v", changed, err)
	}
	key := gittest.GenerateSSHKey(t).AuthorizedKey
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux", publicKey: key, readOnly: true}); err != nil || !change.added {
		t.Fatalf("deploy key: %+v %v", change, err)
	}
	post, _ := h.request("POST", "/keys")
	if want := map[string]any{"title": "flux", "key": key, "read_only": true}; !reflect.DeepEqual(post.body, want) {
		t.Errorf("deploy key body = %v, want %v", post.body, want)
	}
	h.resetRequests()
	if r, err := api.ensureRepository(ctx, repoSettings{visibility: "private"}); err != nil || r.created {
		t.Errorf("again: %+v %v", r, err)
	}
	if changed, err := api.ensureTeamAccess(ctx, "platform", "maintain", true); err != nil || changed {
		t.Errorf("team again: %v %v", changed, err)
	}
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux", publicKey: key, readOnly: true}); err != nil || change.added {
		t.Errorf("key again: %+v %v", change, err)
	}
	if w := h.calls(true); len(w) != 0 {
		t.Errorf("second pass wrote: %v", w)
	}
	if _, err := api.ensureTeamAccess(ctx, "ghosts", "maintain", false); err == nil {
		t.Error("an unknown team was granted")
	}
	h.forbid("POST /api/v1/repos/{owner}/{repo}/keys")
	_, err = api.ensureDeployKey(ctx, deployKey{title: "other", publicKey: gittest.GenerateSSHKey(t).AuthorizedKey, readOnly: true})
	var he *hostingError
	if !errors.As(err, &he) || he.status != http.StatusForbidden {
		t.Errorf("forbidden key: %v", err)
	}
}

// One full bootstrap gitea with --token-auth: the cluster reads over
// HTTPS with the token and the CA of --ca-file.
func TestBootstrapGiteaTokenAuth(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	h := newFakeGitea(t, "gt-secret", "gitty", nil)
	_, stderr, err := runFluxEnv(t, map[string]string{"GITEA_TOKEN": "gt-secret"}, "bootstrap", "gitea", "-n", ns, "--timeout", "3m",
		"--owner", "gitty", "--personal", "--repository", "fleet", "--private=false", "--hostname", h.hostname(),
		"--ca-file", h.caFile, "--token-auth", "--path", "clusters/dev")
	if err != nil {
		t.Fatalf("bootstrap gitea: %v\n%s", err, stderr)
	}
	repo := h.repo("gitty/fleet")
	if repo == nil || repo.visibility != "public" || len(repo.keys) != 0 || !strings.Contains(stderr, "Kustomization reconciled successfully") {
		t.Fatalf("repository %+v\n%s", repo, stderr)
	}
	data, _ := secretData(t, ns, "flux-system")
	if data["username"] != "git" || data["password"] != "gt-secret" || data["ca.crt"] == "" {
		t.Errorf("secret = %v", data)
	}
}
