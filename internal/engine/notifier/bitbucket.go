package notifier

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// bitbucketHost sets Bitbucket Cloud build statuses
// (https://api.bitbucket.org/2.0/repositories/<workspace>/<repo>/commit/<sha>/statuses/build).
type bitbucketHost struct {
	s             Settings
	repo          string // the API address of the repository
	link          string // the repository's own address, the status's url
	authorization string
}

func newBitbucketStatus(s Settings) (Notifier, error) {
	repo, err := s.ownerRepo()
	if err != nil {
		return nil, err
	}
	user, password, err := bitbucketCredentials(s)
	if err != nil {
		return nil, err
	}
	api := repo.base("2.0")
	if repo.host == "bitbucket.org" {
		api = "https://api.bitbucket.org/2.0"
	}
	s.Username, s.Password = user, password // the app password is scrubbed from errors
	h := bitbucketHost{
		s:             s,
		repo:          api + "/repositories/" + repo.segments[0] + "/" + repo.segments[1],
		link:          repo.String(),
		authorization: basicAuth(user, password),
	}
	return &statusNotifier{host: h, s: s}, nil
}

// bitbucketCredentials are the user and app password: the token as
// "<username>:<app-password>" as Flux documents it, or the username with
// the token.
func bitbucketCredentials(s Settings) (string, string, error) {
	if user, password, ok := strings.Cut(s.Token, ":"); ok && user != "" && password != "" {
		return user, password, nil
	}
	if s.Username != "" && s.Token != "" {
		return s.Username, s.Token, nil
	}
	return "", "", &PermanentError{Err: fmt.Errorf("provider type %s needs the Secret's token as <username>:<app-password> (or a username and the token)", s.Type)}
}

func (bitbucketHost) state(severity string) (string, bool) {
	return severityState(severity, "SUCCESSFUL", "FAILED")
}

func (bitbucketHost) descriptionLimit() int { return 255 }

// bitbucketStatus is a build status of Bitbucket (Cloud and Server).
type bitbucketStatus struct {
	State       string `json:"state"`
	Key         string `json:"key"`
	Name        string `json:"name,omitempty"`
	URL         string `json:"url"`
	Description string `json:"description"`
}

// key is the status's key on Bitbucket Cloud: the SHA-1 of the
// commit-status key in hex, which fits its 40 characters and a URL path
// (the readable key is the status's name), as Flux does.
func (bitbucketHost) key(key string) string {
	sum := sha1.Sum([]byte(key))
	return hex.EncodeToString(sum[:])
}

func (h bitbucketHost) header() http.Header {
	header := http.Header{}
	header.Set("Authorization", h.authorization)
	return header
}

func (h bitbucketHost) latest(ctx context.Context, sha, key string) (*commitStatus, error) {
	var status bitbucketStatus
	err := h.s.call(ctx, http.MethodGet, h.repo+"/commit/"+sha+"/statuses/build/"+h.key(key), h.header(), nil, &status)
	var notFound *StatusError
	if errors.As(err, &notFound) && notFound.Code == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &commitStatus{State: status.State, Description: status.Description, Key: key}, nil
}

func (h bitbucketHost) create(ctx context.Context, sha string, status commitStatus) error {
	body := bitbucketStatus{State: status.State, Key: h.key(status.Key), Name: status.Key, URL: h.link, Description: status.Description}
	return h.s.call(ctx, http.MethodPost, h.repo+"/commit/"+sha+"/statuses/build", h.header(), body, nil)
}

// bitbucketServerHost sets Bitbucket Server and Data Center build
// statuses through the REST API of 7.4 and later
// (/rest/api/1.0/projects/<project>/repos/<repo>/commits/<sha>/builds).
type bitbucketServerHost struct {
	s             Settings
	repo          string
	link          string
	authorization string
}

func newBitbucketServerStatus(s Settings) (Notifier, error) {
	const want = "the clone URL, https://<host>[/<context>]/scm/<project>/<repo>.git"
	repo, err := parseRepositoryURL(s.Address)
	if err != nil {
		return nil, s.addressError(err.Error(), want)
	}
	n := len(repo.segments)
	if n < 3 || repo.segments[n-3] != "scm" {
		return nil, s.addressError("is not a Bitbucket Server clone URL", want)
	}
	h := bitbucketServerHost{s: s, link: repo.String()}
	context := repo.segments[:n-3]
	h.repo = repo.base(append(append([]string{}, context...), "rest", "api", "1.0", "projects", repo.segments[n-2], "repos", repo.segments[n-1])...)
	switch {
	case s.Token != "":
		h.authorization = "Bearer " + s.Token
	case s.Username != "" && s.Password != "":
		h.authorization = basicAuth(s.Username, s.Password)
	default:
		return nil, &PermanentError{Err: fmt.Errorf("provider type %s needs the Secret's token (an HTTP access token) or username and password", s.Type)}
	}
	return &statusNotifier{host: h, s: s}, nil
}

func (bitbucketServerHost) state(severity string) (string, bool) {
	return severityState(severity, "SUCCESSFUL", "FAILED")
}

func (bitbucketServerHost) descriptionLimit() int { return 255 }

func (h bitbucketServerHost) header() http.Header {
	header := http.Header{}
	header.Set("Authorization", h.authorization)
	header.Set("X-Atlassian-Token", "no-check")
	return header
}

func (h bitbucketServerHost) latest(ctx context.Context, sha, key string) (*commitStatus, error) {
	var status bitbucketStatus
	err := h.s.call(ctx, http.MethodGet, h.repo+"/commits/"+sha+"/builds?key="+url.QueryEscape(key), h.header(), nil, &status)
	var notFound *StatusError
	if errors.As(err, &notFound) && notFound.Code == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if status.Key != key {
		return nil, nil
	}
	return &commitStatus{State: status.State, Description: status.Description, Key: status.Key}, nil
}

func (h bitbucketServerHost) create(ctx context.Context, sha string, status commitStatus) error {
	body := bitbucketStatus{State: status.State, Key: status.Key, Name: status.Key, URL: h.link, Description: status.Description}
	return h.s.call(ctx, http.MethodPost, h.repo+"/commits/"+sha+"/builds", h.header(), body, nil)
}
