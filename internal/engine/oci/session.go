package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// session is one call's authenticated connection to one repository.
type session struct {
	c    *Client
	repo Repository
	name name.Repository
	// scheme of the URLs built here; the transport corrects it to what
	// the registry's ping answered.
	scheme string
	http   *http.Client
	// credentials tells whether credentials were offered to the registry.
	credentials bool
}

// open pings the registry of repo and sets up authentication for pulling,
// or pushing too; refKind and ref name what the call is about, for errors.
func (c *Client) open(ctx context.Context, repo Repository, push bool, refKind, ref string) (*session, error) {
	s := &session{c: c, repo: repo, scheme: "https"}
	nref, err := repo.nameRepository(c.opts.Insecure)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidSelector, Repository: repo, RefKind: refKind, Ref: ref, Err: err}
	}
	s.name = nref
	if c.opts.Insecure {
		s.scheme = nref.Scheme()
	}
	auth, has, err := c.authenticator(nref)
	if err != nil {
		return nil, &Error{Kind: ErrUnauthorized, Repository: repo, RefKind: refKind, Ref: ref, Detail: "resolving the credentials failed", Err: err}
	}
	s.credentials = has
	scope := nref.Scope(transport.PullScope)
	if push {
		scope = nref.Scope(transport.PushScope)
	}
	rt, err := transport.NewWithContext(ctx, nref.Registry, auth, c.transport, []string{scope})
	if err != nil {
		return nil, s.fail(refKind, ref, err)
	}
	s.http = &http.Client{Transport: rt}
	return s, nil
}

// url returns the address of /v2/<repository>/<suffix>.
func (s *session) url(suffix string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s", s.scheme, s.name.RegistryStr(), s.name.RepositoryStr(), suffix)
}

// do sends a request and checks its status against want.
func (s *session) do(ctx context.Context, method, u string, header http.Header, want ...int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, want...); err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// fail turns err into an *Error about ref (of refKind: "tag", "digest"),
// mapping a 404 to the not-found kind of the reference.
func (s *session) fail(refKind, ref string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	kind, detail := classify(err, s.c.opts.Timeout)
	out := &Error{Kind: kind, Repository: s.repo, RefKind: refKind, Ref: ref, Detail: detail, Err: err}
	switch kind {
	case ErrNotFound:
		switch refKind {
		case "tag":
			out.Kind = ErrTagNotFound
		case "digest":
			out.Kind = ErrDigestNotFound
		case "layer":
			out.Detail = "the registry has no blob with this digest"
		}
		if hasCode(err, transport.NameUnknownErrorCode) {
			out.Detail = "the repository does not exist"
		}
	case ErrUnauthorized, ErrForbidden:
		out.CredentialsSent = s.credentials
		out.Detail = s.credentialsDetail(kind)
	}
	return out
}

func (s *session) credentialsDetail(kind error) string {
	return credentialsDetail(s.repo.Registry, s.credentials, kind)
}

// credentialsDetail says whether credentials were sent to registry.
func credentialsDetail(registry string, sent bool, kind error) string {
	switch {
	case !sent:
		return fmt.Sprintf("no credentials were sent (none are configured for %s)", registry)
	case kind == ErrForbidden:
		return "credentials were sent but do not grant access"
	}
	return "credentials were sent and refused"
}

func hasCode(err error, code transport.ErrorCode) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// refKind tells whether ref is a digest or a tag.
func refKind(ref string) string {
	if strings.Contains(ref, ":") {
		return "digest"
	}
	return "tag"
}
