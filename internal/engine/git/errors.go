package git

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

var (
	// ErrAuthentication means the remote rejected the credentials, or needs
	// some and none were given (Flux reason AuthenticationFailed).
	ErrAuthentication = errors.New("authentication failed")
	// ErrReferenceNotFound means the branch, tag, ref, commit or semver match
	// does not exist in the remote (reason GitOperationFailed).
	ErrReferenceNotFound = errors.New("reference not found")
	// ErrInvalidURL means the URL cannot be used: not http, https or ssh, or
	// malformed (reason URLInvalid).
	ErrInvalidURL = errors.New("invalid URL")
	// ErrInvalidSecret means the auth or proxy secret data is incomplete or
	// malformed (reason AuthenticationFailed).
	ErrInvalidSecret = errors.New("invalid secret")
	// ErrInvalidReference means the reference itself is malformed: a commit
	// that is not a hash, a semver range that does not parse, a name outside
	// refs/, a sparse checkout path that leaves the repository.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrRepositoryNotFound means the server has no repository at the URL.
	ErrRepositoryNotFound = errors.New("repository not found")
	// ErrHostKeyVerification means the SSH host key is not in known_hosts or
	// differs from the key recorded there.
	ErrHostKeyVerification = errors.New("host key verification failed")
	// ErrNotResolvable is returned by Resolve for references only a clone can
	// check (a commit).
	ErrNotResolvable = errors.New("reference cannot be resolved without a clone")
)

// remoteError wraps an error from talking to the remote at redactedURL
// with what was being done and the matching sentinel.
func remoteError(ctx context.Context, op, redactedURL string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return fmt.Errorf("%s %s: timed out: %w", op, redactedURL, ctxErr)
		}
		return fmt.Errorf("%s %s: %w", op, redactedURL, ctxErr)
	}
	var sentinel error
	switch {
	case errors.Is(err, ErrHostKeyVerification), errors.Is(err, ErrReferenceNotFound),
		errors.Is(err, ErrAuthentication):
		return fmt.Errorf("%s %s: %w", op, redactedURL, err)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		strings.Contains(err.Error(), "ssh: unable to authenticate"):
		sentinel = ErrAuthentication
	case errors.Is(err, transport.ErrRepositoryNotFound):
		sentinel = ErrRepositoryNotFound
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		sentinel = ErrReferenceNotFound
	case isNotOurRef(err):
		sentinel = ErrReferenceNotFound
	}
	if sentinel == nil || errors.Is(err, sentinel) {
		return fmt.Errorf("%s %s: %w", op, redactedURL, err)
	}
	return fmt.Errorf("%s %s: %w", op, redactedURL, &classified{sentinel: sentinel, err: err})
}

// classified is an error from go-git matched to one of this package's
// sentinels; errors.Is finds both.
type classified struct {
	sentinel, err error
}

func (e *classified) Unwrap() []error { return []error{e.sentinel, e.err} }

// Error avoids stuttering when go-git's text starts like the sentinel's
// ("repository not found: repository not found").
func (e *classified) Error() string {
	msg := strings.TrimRight(e.err.Error(), ": \n")
	if strings.HasPrefix(msg, e.sentinel.Error()) {
		return msg
	}
	return e.sentinel.Error() + ": " + msg
}

// isNotOurRef reports the server refusing a want for an object it does not
// advertise or have ("not our ref"), which go-git only exposes as text.
func isNotOurRef(err error) bool {
	return strings.Contains(err.Error(), "not our ref")
}
