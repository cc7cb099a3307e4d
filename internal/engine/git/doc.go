// Package git fetches the content of Git repositories for the GitRepository
// source: a shallow, single-reference clone with go-git following Flux's ref
// precedence (commit > name > semver > tag > branch, default branch master),
// a cheap remote check (ls-remote) that lets a caller skip a clone when the
// revision is unchanged, credentials built from the keys of a Flux
// GitRepository secret, submodules and sparse checkout.
//
// Failures are typed: test them with errors.Is against ErrAuthentication,
// ErrReferenceNotFound, ErrInvalidURL, ErrInvalidSecret, ErrInvalidReference,
// ErrRepositoryNotFound, ErrHostKeyVerification and ErrNotResolvable; time-outs
// wrap context.DeadlineExceeded. Error messages never contain secret values.
package git
