// Package auth is who a web UI visitor is and what they may do: sessions
// behind a random cookie, login with a Kubernetes bearer token (checked by a
// TokenReview), the one-time token `flux ui` prints, the authenticating
// proxy mode (X-Remote-User on connections with a client certificate of a
// configured CA), CSRF checks for POST, SubjectAccessReviews cached per
// viewer, and the rest.Config that acts as the visitor, never as the
// controller.
//
// It talks to the API server only through the small interfaces
// TokenReviewer and AccessReviewer, which the typed clients of client-go
// satisfy (clientset.AuthenticationV1().TokenReviews(),
// clientset.AuthorizationV1().SubjectAccessReviews()), so tests use fakes.
//
// How a server uses it:
//   - token login: Authenticator.Login, then Sessions.Create with the
//     token and the expiry Login found, and Sessions.Cookie;
//   - `flux ui`: NewOneTime at start, print its token in the URL, then
//     OneTime.Exchange on the first visit;
//   - proxy mode: Proxy.User on each request; keep a session (ModeProxy)
//     per proxied user for its CSRF token, and drop it when the header user
//     differs from the session's;
//   - every POST: CheckCSRF with the session;
//   - every read: Access.Allowed / Access.Visible with Session.User;
//   - every action: ConfigFor(base, session).
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// The identity of anonymous visitors, when an install opts in to them
// (--web-anonymous-user): the administrator binds the group to a role.
const (
	AnonymousName  = "driftless:web:anonymous"
	AnonymousGroup = "driftless:web:viewers"
)

// User is a visitor as the API server knows them.
type User struct {
	Name   string
	UID    string
	Groups []string
	// Extra is what the authenticator attached (a ServiceAccount token's
	// pod or credential id); SubjectAccessReviews carry it.
	Extra map[string][]string
	// Anonymous marks the anonymous visitor: the UI shows them what their
	// role lets them read and never offers an action.
	Anonymous bool
}

// AnonymousUser is the user of an anonymous visitor.
func AnonymousUser() User {
	return User{Name: AnonymousName, Groups: []string{AnonymousGroup}, Anonymous: true}
}

// String names the user for logs and pages.
func (u User) String() string {
	if len(u.Groups) == 0 {
		return u.Name
	}
	return fmt.Sprintf("%s (groups %s)", u.Name, strings.Join(u.Groups, ", "))
}

// key identifies the user's authorization inputs (name, uid, groups,
// extra) for the access cache: two users with the same key get the same
// SubjectAccessReview answers.
func (u User) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %t", u.Name, u.UID, u.Anonymous)
	groups := slices.Clone(u.Groups)
	slices.Sort(groups)
	for _, g := range groups {
		fmt.Fprintf(&b, " g%q", g)
	}
	keys := make([]string, 0, len(u.Extra))
	for k := range u.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " e%q=%q", k, u.Extra[k])
	}
	return b.String()
}

// randomToken returns 256 random bits, URL-safe: session ids, CSRF tokens
// and one-time tokens.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
