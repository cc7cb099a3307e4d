package notifier

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// githubAPIVersion is the REST API version the requests ask for.
const githubAPIVersion = "2022-11-28"

// githubAPI speaks GitHub's REST API for one repository, with a token or
// as a GitHub App installation.
type githubAPI struct {
	s           Settings
	base        string // https://api.github.com or https://<host>/api/v3
	owner, name string
	app         *githubApp // nil: the Secret's token
}

// newGitHubAPI reads the repository address and the credentials.
func newGitHubAPI(s Settings) (*githubAPI, error) {
	repo, err := s.ownerRepo()
	if err != nil {
		return nil, err
	}
	g := &githubAPI{s: s, owner: repo.segments[0], name: repo.segments[1], base: repo.base("api", "v3")}
	if repo.host == "github.com" || repo.host == "www.github.com" {
		g.base = "https://api.github.com"
	}
	app, err := newGitHubApp(s, g)
	if err != nil {
		return nil, err
	}
	g.app = app
	if app == nil && s.Token == "" {
		return nil, &PermanentError{Err: fmt.Errorf("provider type %s needs the Secret's token, or its githubAppID, githubAppInstallationID and githubAppPrivateKey", s.Type)}
	}
	return g, nil
}

// repoURL is the API address of a path under the repository.
func (g *githubAPI) repoURL(path string) string {
	return g.base + "/repos/" + g.owner + "/" + g.name + path
}

// send makes an authenticated API call.
func (g *githubAPI) send(ctx context.Context, method, address string, body, out any) error {
	s := g.s
	if g.app != nil {
		token, err := g.app.token(ctx)
		if err != nil {
			return err
		}
		s.Token = token // scrubbed from errors too
	}
	header := http.Header{}
	header.Set("Accept", "application/vnd.github+json")
	header.Set("X-GitHub-Api-Version", githubAPIVersion)
	header.Set("Authorization", "Bearer "+s.Token)
	return s.call(ctx, method, address, header, body, out)
}

// githubStatus is a commit status on GitHub (and Gitea, whose API is the
// same here).
type githubStatus struct {
	ID          int64  `json:"id,omitempty"`
	State       string `json:"state"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// newestUnder returns the newest status with the context among a list
// (the highest ID, whatever the order of the list).
func newestUnder(statuses []githubStatus, key string) *commitStatus {
	var newest *githubStatus
	for i := range statuses {
		if statuses[i].Context == key && (newest == nil || statuses[i].ID > newest.ID) {
			newest = &statuses[i]
		}
	}
	if newest == nil {
		return nil
	}
	return &commitStatus{State: newest.State, Description: newest.Description, Key: newest.Context}
}

// githubHost sets GitHub commit statuses.
type githubHost struct{ api *githubAPI }

func newGitHubStatus(s Settings) (Notifier, error) {
	api, err := newGitHubAPI(s)
	if err != nil {
		return nil, err
	}
	return &statusNotifier{host: githubHost{api: api}, s: s}, nil
}

func (h githubHost) state(severity string) (string, bool) {
	return severityState(severity, "success", "failure")
}

// descriptionLimit is GitHub's: a longer description is refused.
func (githubHost) descriptionLimit() int { return 140 }

func (h githubHost) latest(ctx context.Context, sha, key string) (*commitStatus, error) {
	var statuses []githubStatus
	if err := h.api.send(ctx, http.MethodGet, h.api.repoURL("/commits/"+sha+"/statuses?per_page=100"), nil, &statuses); err != nil {
		return nil, err
	}
	return newestUnder(statuses, key), nil
}

func (h githubHost) create(ctx context.Context, sha string, status commitStatus) error {
	body := githubStatus{State: status.State, Description: status.Description, Context: status.Key}
	return h.api.send(ctx, http.MethodPost, h.api.repoURL("/statuses/"+sha), body, nil)
}

// githubDispatch triggers a repository_dispatch event with the event as
// its client payload.
type githubDispatch struct{ api *githubAPI }

func newGitHubDispatch(s Settings) (Notifier, error) {
	api, err := newGitHubAPI(s)
	if err != nil {
		return nil, err
	}
	return &githubDispatch{api: api}, nil
}

// Post sends the dispatch: event_type "<Kind>/<name>.<namespace>", as
// Flux does, so a workflow can filter on it.
func (d *githubDispatch) Post(ctx context.Context, event eventv1.Event) error {
	o := event.InvolvedObject
	body := map[string]any{
		"event_type":     o.Kind + "/" + o.Name + "." + o.Namespace,
		"client_payload": event,
	}
	return d.api.send(ctx, http.MethodPost, d.api.repoURL("/dispatches"), body, nil)
}

// githubComments are the comments of a pull request (GitHub's issue
// comments API).
type githubComments struct{ api *githubAPI }

func newGitHubComment(s Settings) (Notifier, error) {
	api, err := newGitHubAPI(s)
	if err != nil {
		return nil, err
	}
	return &commentNotifier{host: githubComments{api: api}, s: s}, nil
}

// issueComment is a comment on GitHub or Gitea.
type issueComment struct {
	ID   int64  `json:"id,omitempty"`
	Body string `json:"body"`
}

func (c githubComments) list(ctx context.Context, number string, page int) ([]hostComment, error) {
	var comments []issueComment
	address := c.api.repoURL("/issues/" + number + "/comments?per_page=100&page=" + strconv.Itoa(page))
	if err := c.api.send(ctx, http.MethodGet, address, nil, &comments); err != nil {
		return nil, err
	}
	return toHostComments(comments), nil
}

func (c githubComments) create(ctx context.Context, number, body string) error {
	return c.api.send(ctx, http.MethodPost, c.api.repoURL("/issues/"+number+"/comments"), issueComment{Body: body}, nil)
}

func (c githubComments) update(ctx context.Context, number string, id int64, body string) error {
	return c.api.send(ctx, http.MethodPatch, c.api.repoURL("/issues/comments/"+strconv.FormatInt(id, 10)), issueComment{Body: body}, nil)
}

// toHostComments converts issue comments.
func toHostComments(comments []issueComment) []hostComment {
	out := make([]hostComment, 0, len(comments))
	for _, c := range comments {
		out = append(out, hostComment(c))
	}
	return out
}
