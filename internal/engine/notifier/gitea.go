package notifier

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// giteaAPI speaks Gitea's REST API (https://<host>/api/v1) for one
// repository, with the Secret's token.
type giteaAPI struct {
	s           Settings
	base        string
	owner, name string
}

func newGiteaAPI(s Settings) (*giteaAPI, error) {
	repo, err := s.ownerRepo()
	if err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, &PermanentError{Err: fmt.Errorf("provider type %s needs the Secret's token", s.Type)}
	}
	return &giteaAPI{s: s, base: repo.base("api", "v1"), owner: repo.segments[0], name: repo.segments[1]}, nil
}

func (g *giteaAPI) repoURL(path string) string {
	return g.base + "/repos/" + g.owner + "/" + g.name + path
}

func (g *giteaAPI) send(ctx context.Context, method, address string, body, out any) error {
	header := http.Header{}
	header.Set("Authorization", "token "+g.s.Token)
	return g.s.call(ctx, method, address, header, body, out)
}

// giteaHost sets Gitea commit statuses.
type giteaHost struct{ api *giteaAPI }

func newGiteaStatus(s Settings) (Notifier, error) {
	api, err := newGiteaAPI(s)
	if err != nil {
		return nil, err
	}
	return &statusNotifier{host: giteaHost{api: api}, s: s}, nil
}

func (giteaHost) state(severity string) (string, bool) {
	return severityState(severity, "success", "failure")
}

// descriptionLimit is GitHub's, which Gitea's UI follows.
func (giteaHost) descriptionLimit() int { return 140 }

func (h giteaHost) latest(ctx context.Context, sha, key string) (*commitStatus, error) {
	var statuses []githubStatus
	if err := h.api.send(ctx, http.MethodGet, h.api.repoURL("/commits/"+sha+"/statuses?limit=50"), nil, &statuses); err != nil {
		return nil, err
	}
	return newestUnder(statuses, key), nil
}

func (h giteaHost) create(ctx context.Context, sha string, status commitStatus) error {
	body := githubStatus{State: status.State, Description: status.Description, Context: status.Key}
	return h.api.send(ctx, http.MethodPost, h.api.repoURL("/statuses/"+sha), body, nil)
}

// giteaComments are the comments of a Gitea pull request (its issue
// comments).
type giteaComments struct{ api *giteaAPI }

func newGiteaComment(s Settings) (Notifier, error) {
	api, err := newGiteaAPI(s)
	if err != nil {
		return nil, err
	}
	return &commentNotifier{host: giteaComments{api: api}, s: s}, nil
}

func (c giteaComments) list(ctx context.Context, number string, page int) ([]hostComment, error) {
	var comments []issueComment
	address := c.api.repoURL("/issues/" + number + "/comments?limit=100&page=" + strconv.Itoa(page))
	if err := c.api.send(ctx, http.MethodGet, address, nil, &comments); err != nil {
		return nil, err
	}
	return toHostComments(comments), nil
}

func (c giteaComments) create(ctx context.Context, number, body string) error {
	return c.api.send(ctx, http.MethodPost, c.api.repoURL("/issues/"+number+"/comments"), issueComment{Body: body}, nil)
}

func (c giteaComments) update(ctx context.Context, _ string, id int64, body string) error {
	return c.api.send(ctx, http.MethodPatch, c.api.repoURL("/issues/comments/"+strconv.FormatInt(id, 10)), issueComment{Body: body}, nil)
}
