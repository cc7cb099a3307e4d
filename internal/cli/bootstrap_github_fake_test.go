package cli

import (
	"net/http"
	"strconv"
	"testing"
)

// fakeGitHub is GitHub's REST API as GitHub Enterprise serves it under
// /api/v3, with the token in `Authorization: Bearer`. user is the token's
// login; orgs and their teams exist.
type fakeGitHub struct {
	*fakeHost
	user  string
	teams map[string]bool // "org/slug"
}

func newFakeGitHub(t *testing.T, token, user string, orgs ...string) *fakeGitHub {
	h := newFakeHost(t, token, func(r *http.Request, token string) bool {
		return r.Header.Get("Authorization") == "Bearer "+token
	})
	g := &fakeGitHub{fakeHost: h, user: user, teams: map[string]bool{}}
	known := map[string]bool{user: true}
	for _, o := range orgs {
		known[o] = true
	}
	notFound := func(w http.ResponseWriter) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
	repoJSON := func(r *fakeRepo) map[string]any {
		return map[string]any{
			"name": r.name, "full_name": r.owner + "/" + r.name, "private": r.visibility == "private", "visibility": r.visibility,
			"clone_url": h.httpURL(r), "ssh_url": h.scpURL(r), "default_branch": "main",
		}
	}
	create := func(owner string, w http.ResponseWriter, body map[string]any) {
		name, _ := body["name"].(string)
		private, _ := body["private"].(bool)
		init, _ := body["auto_init"].(bool)
		if h.repos[owner+"/"+name] != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "name already exists on this account"})
			return
		}
		vis := "public"
		if private {
			vis = "private"
		}
		writeJSON(w, http.StatusCreated, repoJSON(h.newRepo(owner, name, vis, init)))
	}
	h.handle("GET /api/v3/user", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, map[string]any{"login": user})
	})
	h.handle("GET /api/v3/repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]; repo != nil {
			writeJSON(w, http.StatusOK, repoJSON(repo))
			return
		}
		notFound(w)
	})
	h.handle("PATCH /api/v3/repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if repo == nil {
			notFound(w)
			return
		}
		if private, ok := body["private"].(bool); ok {
			repo.visibility = map[bool]string{true: "private", false: "public"}[private]
		}
		writeJSON(w, http.StatusOK, repoJSON(repo))
	})
	h.handle("POST /api/v3/user/repos", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		create(user, w, body)
	})
	h.handle("POST /api/v3/orgs/{org}/repos", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if !known[r.PathValue("org")] || r.PathValue("org") == user {
			notFound(w)
			return
		}
		create(r.PathValue("org"), w, body)
	})
	keyJSON := func(k fakeKey) map[string]any {
		return map[string]any{"id": k.id, "title": k.title, "key": k.key, "read_only": k.readOnly, "verified": true}
	}
	h.handle("GET /api/v3/repos/{owner}/{repo}/keys", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if repo == nil {
			notFound(w)
			return
		}
		out := []map[string]any{}
		for _, k := range repo.keys {
			out = append(out, keyJSON(k))
		}
		writeJSON(w, http.StatusOK, out)
	})
	h.handle("POST /api/v3/repos/{owner}/{repo}/keys", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		if repo == nil {
			notFound(w)
			return
		}
		k := fakeKey{id: h.id()}
		k.title, _ = body["title"].(string)
		k.key, _ = body["key"].(string)
		k.readOnly, _ = body["read_only"].(bool)
		for _, e := range repo.keys {
			if keyWire(e.key) == keyWire(k.key) {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []map[string]any{{"message": "key is already in use"}}})
				return
			}
		}
		repo.keys = append(repo.keys, k)
		writeJSON(w, http.StatusCreated, keyJSON(k))
	})
	h.handle("DELETE /api/v3/repos/{owner}/{repo}/keys/{id}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		for i, k := range repo.keys {
			if k.id == id {
				repo.keys = append(repo.keys[:i], repo.keys[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		notFound(w)
	})
	teamRepo := func(r *http.Request) (*fakeRepo, string, bool) {
		repo := h.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
		slug := r.PathValue("slug")
		return repo, slug, repo != nil && g.teams[r.PathValue("org")+"/"+slug]
	}
	h.handle("GET /api/v3/orgs/{org}/teams/{slug}/repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		repo, slug, ok := teamRepo(r)
		if !ok || repo.teams[slug] == "" {
			notFound(w)
			return
		}
		out := repoJSON(repo)
		out["permissions"] = map[string]bool{repo.teams[slug]: true}
		writeJSON(w, http.StatusOK, out)
	})
	h.handle("PUT /api/v3/orgs/{org}/teams/{slug}/repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		repo, slug, ok := teamRepo(r)
		if !ok {
			notFound(w)
			return
		}
		repo.teams[slug], _ = body["permission"].(string)
		w.WriteHeader(http.StatusNoContent)
	})
	return g
}

func (g *fakeGitHub) addTeam(org, slug string) { g.teams[org+"/"+slug] = true }
