package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// hostingError is a refused API call: the HTTP status and what was being
// done, so that the command can say which token, scope or name to fix.
type hostingError struct {
	status int
	// action is what was being done, e.g. "create repository acme/fleet".
	action string
	err    error
}

func (e *hostingError) Error() string { return fmt.Sprintf("%s: %v", e.action, e.err) }
func (e *hostingError) Unwrap() error { return e.err }

// hostErr wraps an API error with the call's status and action; a nil err
// stays nil.
func hostErr(status int, action string, err error) error {
	if err == nil {
		return nil
	}
	return &hostingError{status: status, action: action, err: err}
}

// apiError turns a 401 or 403 into a message naming the token variable
// and the scope it needs.
func (h *hostedProvider) apiError(err error) error {
	var he *hostingError
	if !errors.As(err, &he) {
		return err
	}
	switch he.status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%s was rejected by %s (401 Unauthorized) when trying to %s: check that the token is valid and has not expired",
			h.kind.tokenEnv, h.o.hostname, he.action)
	case http.StatusForbidden:
		return fmt.Errorf("%s may not %s on %s (403 Forbidden): give the token %s",
			h.kind.tokenEnv, he.action, h.o.hostname, h.kind.tokenScope)
	}
	return err
}

// hostingHTTPClient is the API client's HTTP client: the system roots plus
// --ca-file, and a bound on each call.
func hostingHTTPClient(ca []byte) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("--ca-file holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

// apiBaseURL is https://hostname, or hostname as given when it already
// has a scheme.
func apiBaseURL(hostname string) string {
	if strings.HasPrefix(hostname, "https://") || strings.HasPrefix(hostname, "http://") {
		return strings.TrimSuffix(hostname, "/")
	}
	return "https://" + hostname
}

// existingKey is a deploy key the repository has.
type existingKey struct {
	id       int64
	title    string
	key      string
	readOnly bool
}

// planDeployKey decides, as Flux's reconciliation of deploy keys does, what
// to do with want: a key with the same public key and access is kept
// (whatever its title); a key with want's title but another public key or
// access is deleted and want is added. It returns the key to keep, or the
// keys to delete before adding want.
func planDeployKey(existing []existingKey, want deployKey) (keep *existingKey, remove []existingKey) {
	wantWire := keyWire(want.publicKey)
	for i, k := range existing {
		if wantWire != "" && keyWire(k.key) == wantWire && k.readOnly == want.readOnly {
			return &existing[i], nil
		}
	}
	for _, k := range existing {
		same := wantWire != "" && keyWire(k.key) == wantWire
		if k.title == want.title || same {
			remove = append(remove, k)
		}
	}
	return nil, remove
}

// keyWire is an authorized_keys line without its comment, "" when it does
// not parse.
func keyWire(line string) string {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return ""
	}
	return string(pub.Marshal())
}

var (
	githubOwnerRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoNameRE    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	// gitlabProjectRE is GitLab's rule for a project name.
	gitlabProjectRE = regexp.MustCompile(`\A[[:alnum:]\x{00A9}-\x{1f9ff}_][[:alnum:]\p{Pd}\x{00A9}-\x{1f9ff}_\.]*\z`)
	gitlabGroupRE   = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$`)
)

// checkRepoName checks --repository against the letters GitHub, Gitea and
// Bitbucket Server accept.
func checkRepoName(name, service string) error {
	if !repoNameRE.MatchString(name) || name == "." || name == ".." || strings.HasSuffix(name, ".git") {
		return fmt.Errorf("invalid --repository %q: a %s repository name has up to 100 letters, digits, '.', '-' or '_' (without .git)", name, service)
	}
	return nil
}
