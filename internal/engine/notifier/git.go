package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// gitNotifiers are the Git host types: the commit statuses of github,
// gitlab, gitea, bitbucket, bitbucketserver and azuredevops, githubdispatch,
// and the change-request comments of githubpullrequestcomment,
// gitlabmergerequestcomment and giteapullrequestcomment.
func gitNotifiers() map[string]constructor {
	return map[string]constructor{
		"github":                    newGitHubStatus,
		"gitlab":                    newGitLabStatus,
		"gitea":                     newGiteaStatus,
		"bitbucket":                 newBitbucketStatus,
		"bitbucketserver":           newBitbucketServerStatus,
		"azuredevops":               newAzureDevOpsStatus,
		"githubdispatch":            newGitHubDispatch,
		"githubpullrequestcomment":  newGitHubComment,
		"gitlabmergerequestcomment": newGitLabComment,
		"giteapullrequestcomment":   newGiteaComment,
	}
}

// maxRepositorySegments bounds the path of a repository address (GitLab's
// nested subgroups are the deepest).
const maxRepositorySegments = 24

// repository is a Git host's repository address, parsed: the scheme and
// host say where the host's API is, the path segments name the repository.
type repository struct {
	scheme, host string
	segments     []string
}

// String is the address again, without a .git suffix.
func (r repository) String() string {
	return r.scheme + "://" + r.host + "/" + strings.Join(r.segments, "/")
}

// base is the scheme and host with the path segments given.
func (r repository) base(segments ...string) string {
	return strings.TrimSuffix(r.scheme+"://"+r.host+"/"+strings.Join(segments, "/"), "/")
}

// parseRepositoryURL parses a repository's HTTP(S) address. It refuses
// what could send a request elsewhere than the repository's API: user
// information, a query or fragment, encoded characters, empty, "." and
// ".." segments, and names outside letters, digits, '.', '_' and '-'.
// A trailing slash and a .git suffix are dropped. The errors do not quote
// the address (it may come from a Secret).
func parseRepositoryURL(address string) (repository, error) {
	u, err := url.Parse(address)
	if err != nil {
		return repository{}, errors.New("is not a URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return repository{}, errors.New("must be an http or https URL")
	case u.Host == "" || u.Opaque != "":
		return repository{}, errors.New("has no host")
	case u.User != nil:
		return repository{}, errors.New("must not carry user information (put credentials in the Secret)")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(address, "?#"):
		return repository{}, errors.New("must not have a query or fragment")
	case u.RawPath != "" || strings.Contains(address, "%"):
		return repository{}, errors.New("must not contain encoded characters")
	}
	if strings.ContainsAny(u.Host, "@/\\") || u.Hostname() == "" {
		return repository{}, errors.New("has an invalid host")
	}
	path := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	if path == "" {
		return repository{}, errors.New("names no repository")
	}
	segments := strings.Split(path, "/")
	if len(segments) > maxRepositorySegments {
		return repository{}, fmt.Errorf("has more than %d path segments", maxRepositorySegments)
	}
	last := len(segments) - 1
	segments[last] = strings.TrimSuffix(segments[last], ".git")
	for _, s := range segments {
		if !validSegment(s) {
			return repository{}, fmt.Errorf("has an invalid path segment %q (letters, digits, '.', '_' and '-' only, no '.' or '..')", trim(s, 64))
		}
	}
	return repository{scheme: u.Scheme, host: strings.ToLower(u.Host), segments: segments}, nil
}

// validSegment tells whether s is a safe repository path segment.
func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// addressError is the error of an address that does not have the shape a
// type expects, redacted when it came from a Secret.
func (s Settings) addressError(problem, want string) error {
	field := "spec.address"
	if s.AddressFromSecret {
		field = "the Secret's address"
	}
	return &PermanentError{Err: fmt.Errorf("provider type %s: %s %s %s; want %s", s.Type, field, s.Redact(s.Address), problem, want)}
}

// ownerRepo parses an address of the shape https://<host>/<owner>/<repo>.
func (s Settings) ownerRepo() (repository, error) {
	const want = "the repository's URL, https://<host>/<owner>/<repo>"
	r, err := parseRepositoryURL(s.Address)
	if err != nil {
		return r, s.addressError(err.Error(), want)
	}
	if len(r.segments) != 2 {
		return r, s.addressError("does not name one repository", want)
	}
	return r, nil
}

// call sends a JSON request (body nil: none) and decodes a JSON answer
// into out (nil: ignored).
func (s Settings) call(ctx context.Context, method, address string, header http.Header, body, out any) error {
	r := request{method: method, url: address, header: http.Header{}}
	for k, vs := range header {
		r.header[k] = vs
	}
	if r.header.Get("Accept") == "" {
		r.header.Set("Accept", "application/json")
	}
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return &PermanentError{Err: fmt.Errorf("encode the payload: %w", err)}
		}
		r.body = data
		r.header.Set("Content-Type", "application/json")
	}
	answer, err := s.do(ctx, r)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("decode the answer of %s %s: %s", method, s.Redact(address), s.scrub(err.Error()))
	}
	return nil
}
