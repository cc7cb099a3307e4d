package cli

import (
	"net/http"
	"strconv"
	"testing"
)

// fakeGitLab is GitLab's REST API v4, with the token in the PRIVATE-TOKEN
// header and projects addressed by their URL-encoded path. user is the
// token's username; groups exist with ids.
type fakeGitLab struct {
	*fakeHost
	groups map[string]int64
}

func newFakeGitLab(t *testing.T, token, user string, groups ...string) *fakeGitLab {
	h := newFakeHost(t, token, func(r *http.Request, token string) bool {
		return r.Header.Get("PRIVATE-TOKEN") == token
	})
	g := &fakeGitLab{fakeHost: h, groups: map[string]int64{}}
	for _, name := range groups {
		g.groups[name] = h.id()
	}
	notFound := func(w http.ResponseWriter, what string) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404 " + what + " Not Found"})
	}
	groupPath := func(id int64) string {
		for p, gid := range g.groups {
			if gid == id {
				return p
			}
		}
		return ""
	}
	projectJSON := func(r *fakeRepo) map[string]any {
		shared := []map[string]any{}
		for team, level := range r.teams {
			lvl, _ := strconv.Atoi(level)
			shared = append(shared, map[string]any{"group_id": g.groups[team], "group_name": team, "group_full_path": team, "group_access_level": lvl})
		}
		return map[string]any{
			"id": 1, "name": r.name, "path": r.name, "path_with_namespace": r.owner + "/" + r.name, "visibility": r.visibility,
			"http_url_to_repo": h.httpURL(r), "ssh_url_to_repo": h.sshURL(r), "default_branch": "main", "shared_with_groups": shared,
		}
	}
	project := func(w http.ResponseWriter, r *http.Request) *fakeRepo {
		p := h.repos[r.PathValue("id")]
		if p == nil {
			notFound(w, "Project")
		}
		return p
	}
	h.handle("GET /api/v4/user", func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, map[string]any{"id": 1, "username": user})
	})
	h.handle("GET /api/v4/groups/{id}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		id, ok := g.groups[r.PathValue("id")]
		if !ok {
			notFound(w, "Group")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "path": r.PathValue("id"), "full_path": r.PathValue("id")})
	})
	h.handle("GET /api/v4/projects/{id}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if p := project(w, r); p != nil {
			writeJSON(w, http.StatusOK, projectJSON(p))
		}
	})
	h.handle("PUT /api/v4/projects/{id}", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if p := project(w, r); p != nil {
			if v, ok := body["visibility"].(string); ok {
				p.visibility = v
			}
			writeJSON(w, http.StatusOK, projectJSON(p))
		}
	})
	h.handle("POST /api/v4/projects", func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
		owner := user
		if ns, ok := body["namespace_id"].(float64); ok {
			if owner = groupPath(int64(ns)); owner == "" {
				notFound(w, "Namespace")
				return
			}
		}
		path, _ := body["path"].(string)
		vis, _ := body["visibility"].(string)
		init, _ := body["initialize_with_readme"].(bool)
		if h.repos[owner+"/"+path] != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"path": []string{"has already been taken"}}})
			return
		}
		writeJSON(w, http.StatusCreated, projectJSON(h.newRepo(owner, path, vis, init)))
	})
	h.handle("POST /api/v4/projects/{id}/share", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if p := project(w, r); p != nil {
			gid, _ := body["group_id"].(float64)
			level, _ := body["group_access"].(float64)
			p.teams[groupPath(int64(gid))] = strconv.Itoa(int(level))
			writeJSON(w, http.StatusCreated, map[string]any{})
		}
	})
	keyJSON := func(k fakeKey) map[string]any {
		return map[string]any{"id": k.id, "title": k.title, "key": k.key, "can_push": !k.readOnly}
	}
	h.handle("GET /api/v4/projects/{id}/deploy_keys", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if p := project(w, r); p != nil {
			out := []map[string]any{}
			for _, k := range p.keys {
				out = append(out, keyJSON(k))
			}
			writeJSON(w, http.StatusOK, out)
		}
	})
	h.handle("POST /api/v4/projects/{id}/deploy_keys", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if p := project(w, r); p != nil {
			k := fakeKey{id: h.id()}
			k.title, _ = body["title"].(string)
			k.key, _ = body["key"].(string)
			canPush, _ := body["can_push"].(bool)
			k.readOnly = !canPush
			p.keys = append(p.keys, k)
			writeJSON(w, http.StatusCreated, keyJSON(k))
		}
	})
	h.handle("DELETE /api/v4/projects/{id}/deploy_keys/{kid}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if p := project(w, r); p != nil {
			id, _ := strconv.ParseInt(r.PathValue("kid"), 10, 64)
			for i, k := range p.keys {
				if k.id == id {
					p.keys = append(p.keys[:i], p.keys[i+1:]...)
				}
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
	tokenJSON := func(t fakeToken, secret bool) map[string]any {
		out := map[string]any{"id": t.id, "name": t.name, "username": t.username, "revoked": t.revoked, "expired": false,
			"scopes": []string{"read_repository"}}
		if secret {
			out["token"] = t.token
		}
		return out
	}
	h.handle("GET /api/v4/projects/{id}/deploy_tokens", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if p := project(w, r); p != nil {
			out := []map[string]any{}
			for _, t := range p.tokens {
				out = append(out, tokenJSON(t, false))
			}
			writeJSON(w, http.StatusOK, out)
		}
	})
	h.handle("POST /api/v4/projects/{id}/deploy_tokens", func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if p := project(w, r); p != nil {
			tok := fakeToken{id: h.id()}
			tok.name, _ = body["name"].(string)
			tok.username = "gitlab+deploy-token-" + strconv.FormatInt(tok.id, 10)
			tok.token = "gldt-" + strconv.FormatInt(tok.id*7919, 36)
			p.tokens = append(p.tokens, tok)
			writeJSON(w, http.StatusCreated, tokenJSON(tok, true))
		}
	})
	h.handle("DELETE /api/v4/projects/{id}/deploy_tokens/{tid}", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if p := project(w, r); p != nil {
			id, _ := strconv.ParseInt(r.PathValue("tid"), 10, 64)
			for i, t := range p.tokens {
				if t.id == id {
					p.tokens = append(p.tokens[:i], p.tokens[i+1:]...)
				}
			}
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return g
}
