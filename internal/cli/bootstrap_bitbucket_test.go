package cli

import (
	"context"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// newFakeBitbucket is Bitbucket Server's REST API (api/1.0 and keys/1.0)
// with a bearer token. projects exist, a user's project is "~USER".
func newFakeBitbucket(t *testing.T, token string, projects ...string) *fakeHost {
	h := newFakeHost(t, token, func(r *http.Request, token string) bool {
		return r.Header.Get("Authorization") == "Bearer "+token
	})
	known := map[string]bool{}
	for _, p := range projects {
		known[p] = true
	}
	notFound := func(w http.ResponseWriter, what string) {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]any{{"message": what + " does not exist."}}})
	}
	repoJSON := func(r *fakeRepo) map[string]any {
		return map[string]any{"slug": r.name, "name": r.name, "public": r.visibility == "public",
			"links": map[string]any{"clone": []map[string]any{{"href": h.httpURL(r), "name": "http"}, {"href": h.sshURL(r), "name": "ssh"}}}}
	}
	repoOf := func(w http.ResponseWriter, r *http.Request) *fakeRepo {
		repo := h.repos[r.PathValue("project")+"/"+r.PathValue("slug")]
		if repo == nil {
			notFound(w, "Repository")
		}
		return repo
	}
	h.handle("GET /rest/api/1.0/projects/{project}/repos/{slug}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			writeJSON(w, http.StatusOK, repoJSON(repo))
		}
	})
	h.handle("PUT /rest/api/1.0/projects/{project}/repos/{slug}", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			if p, ok := body["public"].(bool); ok {
				repo.visibility = map[bool]string{true: "public", false: "private"}[p]
			}
			writeJSON(w, http.StatusOK, repoJSON(repo))
		}
	})
	h.handle("POST /rest/api/1.0/projects/{project}/repos", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		project := r.PathValue("project")
		if !known[project] && !strings.HasPrefix(project, "~") {
			notFound(w, "Project "+project)
			return
		}
		name, _ := body["name"].(string)
		public, _ := body["public"].(bool)
		// A new Bitbucket repository is empty.
		repo := h.newRepo(project, strings.ToLower(name), map[bool]string{true: "public", false: "private"}[public], false)
		writeJSON(w, http.StatusCreated, repoJSON(repo))
	})
	h.handle("GET /rest/api/1.0/projects/{project}/repos/{slug}/permissions/groups", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			values := []map[string]any{}
			if p := repo.teams[r.URL.Query().Get("filter")]; p != "" {
				values = append(values, map[string]any{"group": map[string]any{"name": r.URL.Query().Get("filter")}, "permission": p})
			}
			writeJSON(w, http.StatusOK, map[string]any{"values": values, "isLastPage": true})
		}
	})
	h.handle("PUT /rest/api/1.0/projects/{project}/repos/{slug}/permissions/groups", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			repo.teams[r.URL.Query().Get("name")] = r.URL.Query().Get("permission")
			w.WriteHeader(http.StatusNoContent)
		}
	})
	keyJSON := func(k fakeKey) map[string]any {
		perm := "REPO_WRITE"
		if k.readOnly {
			perm = "REPO_READ"
		}
		return map[string]any{"key": map[string]any{"id": k.id, "text": k.key, "label": k.title}, "permission": perm}
	}
	h.handle("GET /rest/keys/1.0/projects/{project}/repos/{slug}/ssh", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			values := []map[string]any{}
			for _, k := range repo.keys {
				values = append(values, keyJSON(k))
			}
			writeJSON(w, http.StatusOK, map[string]any{"values": values, "isLastPage": true})
		}
	})
	h.handle("POST /rest/keys/1.0/projects/{project}/repos/{slug}/ssh", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if repo := repoOf(w, r); repo != nil {
			key, _ := body["key"].(map[string]any)
			k := fakeKey{id: h.id()}
			k.key, _ = key["text"].(string)
			k.title, _ = key["label"].(string)
			k.readOnly = body["permission"] == "REPO_READ"
			repo.keys = append(repo.keys, k)
			writeJSON(w, http.StatusCreated, keyJSON(k))
		}
	})
	h.handle("DELETE /rest/keys/1.0/projects/{project}/repos/{slug}/ssh/{id}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
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
	return h
}

func TestBitbucketAPIRequests(t *testing.T) {
	t.Parallel()
	h := newFakeBitbucket(t, "bb-secret", "OPS")
	ca, _ := os.ReadFile(h.caFile)
	api, err := newBitbucketAPI(hostedConfig{o: &hostedOptions{owner: "OPS", repository: "Fleet", hostname: h.hostname()}, token: h.token, ca: ca})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := api.ensureRepository(ctx, repoSettings{visibility: "private"})
	if err != nil || !r.created || r.fullName != "OPS/fleet" || r.visibility != "private" || r.httpURL == "" || r.sshURL == "" {
		t.Fatalf("ensureRepository: %+v %v", r, err)
	}
	create, _ := h.request("POST", "/projects/{project}/repos")
	if want := map[string]any{"name": "Fleet", "scmId": "git", "public": false}; !reflect.DeepEqual(create.body, want) || create.path != "/rest/api/1.0/projects/OPS/repos" {
		t.Errorf("create = %+v", create)
	}
	if changed, err := api.ensureTeamAccess(ctx, "devs", "push", false); err != nil || !changed {
		t.Fatalf("group: %v %v", changed, err)
	}
	put, _ := h.request("PUT", "/permissions/groups")
	if put.query != "name=devs&permission=REPO_WRITE" {
		t.Errorf("group permission query = %q", put.query)
	}
	key := gittest.GenerateSSHKey(t).AuthorizedKey
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux-system-main", publicKey: key, readOnly: true}); err != nil || !change.added {
		t.Fatalf("access key: %+v %v", change, err)
	}
	post, _ := h.request("POST", "/ssh")
	if want := map[string]any{"key": map[string]any{"text": key, "label": "flux-system-main"}, "permission": "REPO_READ"}; !reflect.DeepEqual(post.body, want) {
		t.Errorf("access key body = %v, want %v", post.body, want)
	}
	h.resetRequests()
	if r, err := api.ensureRepository(ctx, repoSettings{visibility: "private"}); err != nil || r.created {
		t.Errorf("again: %+v %v", r, err)
	}
	if changed, err := api.ensureTeamAccess(ctx, "devs", "push", true); err != nil || changed {
		t.Errorf("group again: %v %v", changed, err)
	}
	if change, err := api.ensureDeployKey(ctx, deployKey{title: "flux-system-main", publicKey: key, readOnly: true}); err != nil || change.added {
		t.Errorf("key again: %+v %v", change, err)
	}
	if w := h.calls(true); len(w) != 0 {
		t.Errorf("second pass wrote: %v", w)
	}
	// --reconcile makes the repository public; --group admin changes REPO_WRITE.
	if r, err := api.ensureRepository(ctx, repoSettings{visibility: "public", reconcile: true}); err != nil || !r.changed || r.visibility != "public" {
		t.Errorf("reconcile: %+v %v", r, err)
	}
	if changed, err := api.ensureTeamAccess(ctx, "devs", "admin", true); err != nil || !changed || h.repo("OPS/fleet").teams["devs"] != "REPO_ADMIN" {
		t.Errorf("group admin: %v %v", changed, err)
	}
}

// One full bootstrap bitbucket-server over SSH with an access key, into a
// new, empty repository.
func TestBootstrapBitbucketServer(t *testing.T) {
	t.Parallel()
	ns := bootstrapNamespace(t)
	h := newFakeBitbucket(t, "bb-secret", "OPS")
	_, stderr, err := runFluxEnv(t, map[string]string{"BITBUCKET_TOKEN": "bb-secret"}, "bootstrap", "bitbucket-server", "-n", ns,
		"--timeout", "3m", "--owner", "OPS", "--username", "jdoe", "--repository", "fleet", "--group", "devs",
		"--hostname", h.hostname(), "--ca-file", h.caFile, "--path", "clusters/prod")
	if err != nil {
		t.Fatalf("bootstrap bitbucket-server: %v\n%s", err, stderr)
	}
	repo := h.repo("OPS/fleet")
	if repo == nil || len(repo.keys) != 1 || !repo.keys[0].readOnly || repo.teams["devs"] != "REPO_WRITE" {
		t.Fatalf("repository %+v", repo)
	}
	if !strings.Contains(stderr, "branch \"main\" does not exist yet") || !strings.Contains(stderr, "Kustomization reconciled successfully") {
		t.Errorf("output:\n%s", stderr)
	}
}

func TestBootstrapBitbucketServerBadInput(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--owner", "OPS", "--repository", "fleet"}, "--hostname is required for Bitbucket Server"},
		{[]string{"--owner", "ops-team", "--repository", "fleet", "--hostname", "bb.example.com"}, `invalid --owner "ops-team": give the key of a Bitbucket Server project`},
		{[]string{"--owner", "OPS", "--repository", "fleet", "--hostname", "bb.example.com", "--group", "devs:maintain"}, `invalid permission "maintain" for group "devs" in --group: use one of pull, push, admin`},
	} {
		_, _, err := runFluxEnv(t, map[string]string{"BITBUCKET_TOKEN": "x"}, append([]string{"bootstrap", "bitbucket-server", "-n", ns}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}
