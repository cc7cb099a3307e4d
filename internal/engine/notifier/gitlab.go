package notifier

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// gitlabAPI speaks GitLab's REST API (https://<host>/api/v4) for one
// project, named by its URL-encoded path (groups and subgroups included).
type gitlabAPI struct {
	s       Settings
	project string // https://<host>/api/v4/projects/<encoded path>
}

func newGitLabAPI(s Settings) (*gitlabAPI, error) {
	const want = "the project's URL, https://<host>/<group>[/<subgroup>...]/<project>"
	repo, err := parseRepositoryURL(s.Address)
	if err != nil {
		return nil, s.addressError(err.Error(), want)
	}
	if len(repo.segments) < 2 {
		return nil, s.addressError("does not name a project in a group", want)
	}
	if s.Token == "" {
		return nil, &PermanentError{Err: fmt.Errorf("provider type %s needs the Secret's token", s.Type)}
	}
	path := url.PathEscape(strings.Join(repo.segments, "/"))
	return &gitlabAPI{s: s, project: repo.base("api", "v4", "projects", path)}, nil
}

func (g *gitlabAPI) send(ctx context.Context, method, address string, body, out any) error {
	header := http.Header{}
	header.Set("PRIVATE-TOKEN", g.s.Token)
	return g.s.call(ctx, method, address, header, body, out)
}

// gitlabHost sets GitLab commit statuses.
type gitlabHost struct{ api *gitlabAPI }

func newGitLabStatus(s Settings) (Notifier, error) {
	api, err := newGitLabAPI(s)
	if err != nil {
		return nil, err
	}
	return &statusNotifier{host: gitlabHost{api: api}, s: s}, nil
}

func (gitlabHost) state(severity string) (string, bool) {
	return severityState(severity, "success", "failed")
}

func (gitlabHost) descriptionLimit() int { return 255 }

// gitlabStatus is a commit status of GitLab: "status" in answers, "state"
// in requests.
type gitlabStatus struct {
	ID          int64  `json:"id,omitempty"`
	Status      string `json:"status,omitempty"`
	State       string `json:"state,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (h gitlabHost) latest(ctx context.Context, sha, key string) (*commitStatus, error) {
	var statuses []gitlabStatus
	address := h.api.project + "/repository/commits/" + sha + "/statuses?per_page=100&name=" + url.QueryEscape(key)
	if err := h.api.send(ctx, http.MethodGet, address, nil, &statuses); err != nil {
		return nil, err
	}
	var newest *gitlabStatus
	for i := range statuses {
		if statuses[i].Name == key && (newest == nil || statuses[i].ID > newest.ID) {
			newest = &statuses[i]
		}
	}
	if newest == nil {
		return nil, nil
	}
	return &commitStatus{State: newest.Status, Description: newest.Description, Key: newest.Name}, nil
}

func (h gitlabHost) create(ctx context.Context, sha string, status commitStatus) error {
	body := gitlabStatus{State: status.State, Name: status.Key, Description: status.Description}
	return h.api.send(ctx, http.MethodPost, h.api.project+"/statuses/"+sha, body, nil)
}

// gitlabComments are the notes of a GitLab merge request.
type gitlabComments struct{ api *gitlabAPI }

func newGitLabComment(s Settings) (Notifier, error) {
	api, err := newGitLabAPI(s)
	if err != nil {
		return nil, err
	}
	return &commentNotifier{host: gitlabComments{api: api}, s: s}, nil
}

func (c gitlabComments) list(ctx context.Context, number string, page int) ([]hostComment, error) {
	var notes []issueComment
	address := c.api.project + "/merge_requests/" + number + "/notes?per_page=100&sort=asc&page=" + strconv.Itoa(page)
	if err := c.api.send(ctx, http.MethodGet, address, nil, &notes); err != nil {
		return nil, err
	}
	return toHostComments(notes), nil
}

func (c gitlabComments) create(ctx context.Context, number, body string) error {
	return c.api.send(ctx, http.MethodPost, c.api.project+"/merge_requests/"+number+"/notes", issueComment{Body: body}, nil)
}

func (c gitlabComments) update(ctx context.Context, number string, id int64, body string) error {
	address := c.api.project + "/merge_requests/" + number + "/notes/" + strconv.FormatInt(id, 10)
	return c.api.send(ctx, http.MethodPut, address, issueComment{Body: body}, nil)
}
