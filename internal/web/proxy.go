package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/driftless/driftless/internal/web/auth"
)

// proxied serves r for u, the user the authenticating proxy names on a
// connection it vouches for. The proxy has logged the user in, so there is
// no login page; the session exists only to hold the CSRF token that the
// page's forms and the following POSTs must agree on. It is the one the
// cookie names while that is this user's proxied session; otherwise a new
// one replaces it, so a browser the proxy now names differently never acts
// with the previous user's session. The static files need no session: a
// page's parallel asset requests do not each start one.
func (s *server) proxied(w http.ResponseWriter, r *http.Request, u auth.User, next http.Handler) {
	if public(r) {
		next.ServeHTTP(w, r)
		return
	}
	sess, ok := s.sess.sessions.FromRequest(r)
	if !ok || sess.Mode != auth.ModeProxy || !sameUser(sess.User, u) {
		if ok {
			// Drop the replaced session, a token login's bearer
			// token with it.
			s.sess.sessions.Delete(sess.ID)
		}
		if r.Method == http.MethodPost {
			// A POST carries the CSRF token of the session the cookie
			// named, which this request has just lost: nothing is
			// done, and the visitor starts again from a page.
			s.deny(w, r, http.StatusForbidden, "Forbidden", "the session changed (the proxy names "+u.Name+" now): reload the page and try again")
			return
		}
		var err error
		if sess, err = s.sess.sessions.Create(u, auth.ModeProxy, "", time.Time{}); err != nil {
			s.log.Error("proxied session", "user", u.Name, "error", err)
			s.deny(w, r, http.StatusInternalServerError, "Error", "could not start a session: "+err.Error())
			return
		}
		http.SetCookie(w, s.sess.sessions.Cookie(sess, r.TLS != nil))
	}
	r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, Viewer{User: sess.User, Session: sess, CSRF: sess.CSRF}))
	next.ServeHTTP(w, r)
}

// sameUser tells whether a and b are the same proxied identity: the same
// name and the same groups, in any order.
func sameUser(a, b auth.User) bool {
	if a.Name != b.Name || len(a.Groups) != len(b.Groups) {
		return false
	}
	ag, bg := slices.Clone(a.Groups), slices.Clone(b.Groups)
	slices.Sort(ag)
	slices.Sort(bg)
	return slices.Equal(ag, bg)
}
