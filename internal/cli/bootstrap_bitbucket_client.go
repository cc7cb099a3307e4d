package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// bitbucketClient is a small typed client of the Bitbucket Server (Data
// Center) REST API: the calls bootstrap needs, under /rest/api/1.0 and
// /rest/keys/1.0, authenticated with a bearer HTTP access token. No
// maintained Go client of this API is on the module proxy.
type bitbucketClient struct {
	base  string
	token string
	hc    *http.Client
}

// bitbucketRepo is the repository resource.
type bitbucketRepo struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Public bool   `json:"public"`
	Links  struct {
		Clone []struct {
			Href string `json:"href"`
			Name string `json:"name"`
		} `json:"clone"`
	} `json:"links"`
}

// cloneURL is the clone link called name: "http" or "ssh".
func (r *bitbucketRepo) cloneURL(name string) string {
	for _, l := range r.Links.Clone {
		if l.Name == name {
			return l.Href
		}
	}
	return ""
}

type bitbucketGroupPermission struct {
	Group struct {
		Name string `json:"name"`
	} `json:"group"`
	Permission string `json:"permission"`
}

type bitbucketAccessKey struct {
	Key struct {
		ID    int64  `json:"id,omitempty"`
		Text  string `json:"text"`
		Label string `json:"label,omitempty"`
	} `json:"key"`
	Permission string `json:"permission"`
}

// bitbucketPage is one page of a paged collection.
type bitbucketPage[T any] struct {
	Values        []T  `json:"values"`
	IsLastPage    bool `json:"isLastPage"`
	NextPageStart int  `json:"nextPageStart"`
}

// bitbucketAPIError is a non-2xx answer with the server's messages.
type bitbucketAPIError struct {
	status   int
	messages []string
}

func (e *bitbucketAPIError) Error() string {
	if len(e.messages) == 0 {
		return fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("%d %s: %s", e.status, http.StatusText(e.status), strings.Join(e.messages, "; "))
}

// do sends one request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to ignore it). It returns the status and, for a
// non-2xx status, a *bitbucketAPIError.
func (c *bitbucketClient) do(ctx context.Context, method, path string, query url.Values, body, out any) (int, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e struct {
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		apiErr := &bitbucketAPIError{status: resp.StatusCode}
		if json.Unmarshal(data, &e) == nil {
			for _, m := range e.Errors {
				apiErr.messages = append(apiErr.messages, m.Message)
			}
		}
		return resp.StatusCode, apiErr
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode the answer to %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func repoPath(project, slug string) string {
	return "/rest/api/1.0/projects/" + url.PathEscape(project) + "/repos/" + url.PathEscape(slug)
}

func keysPath(project, slug string) string {
	return "/rest/keys/1.0/projects/" + url.PathEscape(project) + "/repos/" + url.PathEscape(slug) + "/ssh"
}

func (c *bitbucketClient) getRepo(ctx context.Context, project, slug string) (*bitbucketRepo, int, error) {
	var r bitbucketRepo
	status, err := c.do(ctx, http.MethodGet, repoPath(project, slug), nil, nil, &r)
	return &r, status, err
}

func (c *bitbucketClient) createRepo(ctx context.Context, project, name string, public bool) (*bitbucketRepo, int, error) {
	var r bitbucketRepo
	body := map[string]any{"name": name, "scmId": "git", "public": public}
	status, err := c.do(ctx, http.MethodPost, "/rest/api/1.0/projects/"+url.PathEscape(project)+"/repos", nil, body, &r)
	return &r, status, err
}

func (c *bitbucketClient) setPublic(ctx context.Context, project, slug string, public bool) (*bitbucketRepo, int, error) {
	var r bitbucketRepo
	status, err := c.do(ctx, http.MethodPut, repoPath(project, slug), nil, map[string]any{"public": public}, &r)
	return &r, status, err
}

// groupPermission is the group's permission on the repository, "" when
// it has none.
func (c *bitbucketClient) groupPermission(ctx context.Context, project, slug, group string) (string, int, error) {
	var page bitbucketPage[bitbucketGroupPermission]
	status, err := c.do(ctx, http.MethodGet, repoPath(project, slug)+"/permissions/groups", url.Values{"filter": {group}}, nil, &page)
	if err != nil {
		return "", status, err
	}
	for _, p := range page.Values {
		if p.Group.Name == group {
			return p.Permission, status, nil
		}
	}
	return "", status, nil
}

func (c *bitbucketClient) setGroupPermission(ctx context.Context, project, slug, group, permission string) (int, error) {
	q := url.Values{"permission": {permission}, "name": {group}}
	return c.do(ctx, http.MethodPut, repoPath(project, slug)+"/permissions/groups", q, nil, nil)
}

func (c *bitbucketClient) accessKeys(ctx context.Context, project, slug string) ([]bitbucketAccessKey, int, error) {
	var all []bitbucketAccessKey
	start := 0
	for {
		var page bitbucketPage[bitbucketAccessKey]
		q := url.Values{"start": {fmt.Sprint(start)}, "limit": {"100"}}
		status, err := c.do(ctx, http.MethodGet, keysPath(project, slug), q, nil, &page)
		if err != nil {
			return nil, status, err
		}
		all = append(all, page.Values...)
		if page.IsLastPage || page.NextPageStart <= start {
			return all, status, nil
		}
		start = page.NextPageStart
	}
}

func (c *bitbucketClient) addAccessKey(ctx context.Context, project, slug, label, text, permission string) (int, error) {
	var k bitbucketAccessKey
	k.Key.Text, k.Key.Label, k.Permission = text, label, permission
	return c.do(ctx, http.MethodPost, keysPath(project, slug), nil, k, nil)
}

func (c *bitbucketClient) deleteAccessKey(ctx context.Context, project, slug string, id int64) (int, error) {
	return c.do(ctx, http.MethodDelete, fmt.Sprintf("%s/%d", keysPath(project, slug), id), nil, nil, nil)
}
