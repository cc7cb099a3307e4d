package notifier

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Secret keys of a GitHub App, as `flux create secret githubapp`
// writes them.
const (
	githubAppIDKey                = "githubAppID"
	githubAppInstallationIDKey    = "githubAppInstallationID"
	githubAppInstallationOwnerKey = "githubAppInstallationOwner"
	githubAppPrivateKeyKey        = "githubAppPrivateKey"
	githubAppBaseURLKey           = "githubAppBaseURL"
)

// githubAppTokenMargin is how long before its expiry an installation token
// is replaced.
const githubAppTokenMargin = 5 * time.Minute

// githubApp authenticates as an installation of a GitHub App: a JWT signed
// with the App's key buys an installation token, kept until shortly before
// it expires.
type githubApp struct {
	appID          string
	installationID string // empty: looked up from owner
	owner          string
	key            *rsa.PrivateKey
	base           string // the API the App calls go to
	api            *githubAPI
	now            func() time.Time

	mu      sync.Mutex
	cached  string
	expires time.Time
}

// newGitHubApp reads the App keys of the Secret; nil when it has none.
func newGitHubApp(s Settings, api *githubAPI) (*githubApp, error) {
	id := strings.TrimSpace(string(s.Secret[githubAppIDKey]))
	pemKey := s.Secret[githubAppPrivateKeyKey]
	if id == "" && len(pemKey) == 0 {
		return nil, nil
	}
	if id == "" || len(pemKey) == 0 {
		return nil, &PermanentError{Err: fmt.Errorf("the Secret has only one of %s and %s; a GitHub App needs both", githubAppIDKey, githubAppPrivateKeyKey)}
	}
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("the Secret's %s is not a number", githubAppIDKey)}
	}
	app := &githubApp{
		appID:          id,
		installationID: strings.TrimSpace(string(s.Secret[githubAppInstallationIDKey])),
		owner:          strings.TrimSpace(string(s.Secret[githubAppInstallationOwnerKey])),
		base:           api.base,
		api:            api,
		now:            time.Now,
	}
	if app.installationID != "" {
		if _, err := strconv.ParseUint(app.installationID, 10, 63); err != nil {
			return nil, &PermanentError{Err: fmt.Errorf("the Secret's %s is not a number", githubAppInstallationIDKey)}
		}
	}
	if app.owner != "" && !validSegment(app.owner) {
		return nil, &PermanentError{Err: fmt.Errorf("the Secret's %s is not a GitHub user or organisation name", githubAppInstallationOwnerKey)}
	}
	if base := strings.TrimSpace(string(s.Secret[githubAppBaseURLKey])); base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, &PermanentError{Err: fmt.Errorf("the Secret's %s is not an http(s) URL without query", githubAppBaseURLKey)}
		}
		app.base = strings.TrimSuffix(base, "/")
	}
	key, err := parseRSAKey(pemKey)
	if err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("the Secret's %s: %w", githubAppPrivateKeyKey, err)}
	}
	app.key = key
	return app, nil
}

// jwt is the App's JSON Web Token: RS256, issued a minute in the past
// against clock drift, valid nine minutes (GitHub allows ten).
func (a *githubApp) jwt() (string, error) {
	now := a.now()
	token, err := signRS256(a.key, nil, map[string]any{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": a.appID,
	})
	if err != nil {
		return "", fmt.Errorf("sign the GitHub App JWT: %w", err)
	}
	return token, nil
}

// token returns a valid installation token, from the cache or GitHub.
func (a *githubApp) token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cached != "" && a.now().Before(a.expires.Add(-githubAppTokenMargin)) {
		return a.cached, nil
	}
	jwt, err := a.jwt()
	if err != nil {
		return "", &PermanentError{Err: err}
	}
	s := a.api.s
	s.Token = jwt
	header := http.Header{}
	header.Set("Accept", "application/vnd.github+json")
	header.Set("X-GitHub-Api-Version", githubAPIVersion)
	header.Set("Authorization", "Bearer "+jwt)
	installation := a.installationID
	if installation == "" {
		id, err := a.findInstallation(ctx, s, header)
		if err != nil {
			return "", fmt.Errorf("find the GitHub App installation: %w", err)
		}
		installation = strconv.FormatInt(id, 10)
	}
	var answer struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	address := a.base + "/app/installations/" + installation + "/access_tokens"
	if err := s.call(ctx, http.MethodPost, address, header, nil, &answer); err != nil {
		return "", fmt.Errorf("get a GitHub App installation token: %w", err)
	}
	if answer.Token == "" {
		return "", errors.New("github answered no installation token")
	}
	a.cached, a.expires = answer.Token, answer.ExpiresAt
	return a.cached, nil
}

// maxInstallationPages bounds the App's installations searched for the
// owner's.
const maxInstallationPages = 10

// findInstallation finds the installation ID: the owner's among the App's
// installations when the Secret names one (a user or an organisation),
// else the repository's.
func (a *githubApp) findInstallation(ctx context.Context, s Settings, header http.Header) (int64, error) {
	if a.owner == "" {
		var found struct {
			ID int64 `json:"id"`
		}
		if err := s.call(ctx, http.MethodGet, a.base+"/repos/"+a.api.owner+"/"+a.api.name+"/installation", header, nil, &found); err != nil {
			return 0, err
		}
		if found.ID <= 0 {
			return 0, &PermanentError{Err: errors.New("github answered no installation id for the repository")}
		}
		return found.ID, nil
	}
	for page := 1; page <= maxInstallationPages; page++ {
		var installations []struct {
			ID      int64 `json:"id"`
			Account struct {
				Login string `json:"login"`
			} `json:"account"`
		}
		address := a.base + "/app/installations?per_page=100&page=" + strconv.Itoa(page)
		if err := s.call(ctx, http.MethodGet, address, header, nil, &installations); err != nil {
			return 0, err
		}
		for _, i := range installations {
			if strings.EqualFold(i.Account.Login, a.owner) && i.ID > 0 {
				return i.ID, nil
			}
		}
		if len(installations) < 100 {
			break
		}
	}
	return 0, &PermanentError{Err: fmt.Errorf("the GitHub App has no installation on %s (the Secret's %s)", a.owner, githubAppInstallationOwnerKey)}
}
