package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/driftless/driftless/internal/web/auth"
)

// AuthMode is how visitors get a session.
type AuthMode int

const (
	// AuthToken (the zero value, so a forgotten mode is the strict one) is
	// the in-cluster login page: the visitor pastes a Kubernetes bearer
	// token, which a TokenReview checks (Options.Login).
	AuthToken AuthMode = iota
	// AuthLocal is `flux ui`: the URL it prints carries a one-time token
	// (Options.OneTime) that the first visit trades for a session cookie.
	AuthLocal
)

// Messages a visitor without a session gets.
const (
	msgLocalNoSession = "open the URL with its one-time token that `flux ui` printed"
	msgLogInToAct     = "log in to act"
)

// Viewer is who a request comes from, as handlers see it.
type Viewer struct {
	User auth.User
	// Session is the visitor's session; zero for an anonymous visitor.
	Session auth.Session
	// CSRF is the session's synchronizer token, for forms (csrfField) and
	// htmx's header; "" for an anonymous visitor, who has no forms.
	CSRF string
}

// LoggedIn tells whether the viewer has a session.
func (v Viewer) LoggedIn() bool { return v.Session.ID != "" }

// Proxied tells whether the authenticating proxy signed the viewer in:
// the proxy, not the UI, signs them out, so the page offers no logout.
func (v Viewer) Proxied() bool { return v.Session.Mode == auth.ModeProxy }

// HXHeaders is the JSON of htmx's hx-headers that sends the CSRF token
// with every htmx request.
func (v Viewer) HXHeaders() string {
	if v.CSRF == "" {
		return ""
	}
	b, _ := json.Marshal(map[string]string{auth.CSRFHeader: v.CSRF})
	return string(b)
}

type viewerKey struct{}

// viewer is the viewer of r, set by the session check; the zero Viewer
// for a request that did not pass it (the static files, /login).
func viewer(r *http.Request) Viewer {
	v, _ := r.Context().Value(viewerKey{}).(Viewer)
	return v
}

// csrfField is the hidden form field that carries the viewer's CSRF token,
// for every <form method="post"> a page renders.
func csrfField(v Viewer) template.HTML {
	if v.CSRF == "" {
		return ""
	}
	return template.HTML(`<input type="hidden" name="` + auth.CSRFField + `" value="` +
		template.HTMLEscapeString(v.CSRF) + `">`)
}

// sessionState is the server's part that knows visitors.
type sessionState struct {
	mode      AuthMode
	anonymous bool
	sessions  *auth.Sessions
	login     *auth.Authenticator
	oneTime   *auth.OneTime
	proxy     *auth.Proxy
}

func newSessionState(opts Options) sessionState {
	st := sessionState{mode: opts.Auth, anonymous: opts.Anonymous, sessions: opts.Sessions, login: opts.Login, oneTime: opts.OneTime, proxy: opts.Proxy}
	if st.sessions == nil {
		st.sessions = auth.NewSessions(auth.SessionOptions{Now: opts.Now})
	}
	return st
}

// authRoutes adds /login and /logout.
func (s *server) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.loginPost)
	mux.HandleFunc("POST /logout", s.logout)
}

// public are the paths a visitor without a session may reach.
func public(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/login"
}

// authenticate puts the viewer in the request's context, or answers for a
// visitor without a session: `flux ui`'s one-time token is traded for a
// session here; otherwise the login page (token mode), a 403 naming the
// printed URL (local mode), or 401 "log in to act" for a POST.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.sess.proxy != nil {
			if u, ok := s.sess.proxy.User(r); ok {
				s.proxied(w, r, u, next)
				return
			}
		}
		sess, ok := s.sess.sessions.FromRequest(r)
		if ok && sess.Mode == auth.ModeProxy {
			// A proxied user's session is good only on the proxy's own
			// connections, naming that user: its cookie, replayed
			// around the proxy, is no one's.
			ok = false
		}
		if s.sess.mode == AuthLocal && r.URL.Query().Has("token") && r.Method == http.MethodGet {
			s.exchange(w, r, sess, ok)
			return
		}
		switch {
		case ok:
			r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, Viewer{User: sess.User, Session: sess, CSRF: sess.CSRF}))
		case public(r):
		case s.sess.anonymous && r.Method != http.MethodPost:
			r = r.WithContext(context.WithValue(r.Context(), viewerKey{}, Viewer{User: auth.AnonymousUser()}))
		case s.sess.mode == AuthLocal:
			s.deny(w, r, http.StatusForbidden, "Forbidden", msgLocalNoSession)
			return
		case r.Method == http.MethodPost && s.sess.sessions.HasCookie(r):
			// The session ended (expired, logged out elsewhere) before
			// this action: nothing is done, and the visitor logs in again.
			http.SetCookie(w, s.sess.sessions.LogoutCookie(r.TLS != nil))
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		case r.Method == http.MethodPost:
			s.deny(w, r, http.StatusUnauthorized, "Log in", msgLogInToAct)
			return
		default:
			s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Log in", Body: loginData{Next: r.URL.RequestURI()}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// exchange trades `flux ui`'s one-time token for a session cookie and sends
// the browser to the same URL without the token, so that it stays out of
// the history and of any link. A visitor who has a session already is just
// sent on: the token is not spent.
func (s *server) exchange(w http.ResponseWriter, r *http.Request, sess auth.Session, ok bool) {
	if !ok {
		if s.sess.oneTime == nil {
			s.deny(w, r, http.StatusForbidden, "Forbidden", auth.ErrOneTimeToken.Error())
			return
		}
		var err error
		if sess, err = s.sess.oneTime.Exchange(r.URL.Query().Get("token")); err != nil {
			s.deny(w, r, http.StatusForbidden, "Forbidden", err.Error())
			return
		}
		http.SetCookie(w, s.sess.sessions.Cookie(sess, r.TLS != nil))
	}
	u := *r.URL
	q := u.Query()
	q.Del("token")
	u.RawQuery = q.Encode()
	u.Scheme, u.Host, u.User = "", "", nil
	if u.Path == "" {
		u.Path = "/"
	}
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// loginData is the login page's body.
type loginData struct {
	Error string
	// Next is the page to go to after login: the one asked for.
	Next string
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.sess.mode == AuthLocal {
		s.deny(w, r, http.StatusForbidden, "Forbidden", msgLocalNoSession)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "login", page{Title: "Log in", Body: loginData{Error: msg, Next: localPath(r.PostFormValue("next"))}})
}

// loginPost checks the pasted token with a TokenReview and starts a
// session. It has no session to hold a CSRF token yet, so it asks for the
// UI's own origin instead; the cookie's SameSite=Strict does the rest.
func (s *server) loginPost(w http.ResponseWriter, r *http.Request) {
	if s.sess.mode == AuthLocal {
		s.deny(w, r, http.StatusForbidden, "Forbidden", msgLocalNoSession)
		return
	}
	if err := auth.CheckOrigin(r); err != nil {
		s.deny(w, r, http.StatusForbidden, "Forbidden", err.Error())
		return
	}
	if s.sess.login == nil {
		s.renderLogin(w, r, http.StatusServiceUnavailable, "token login is not configured on this server")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	user, exp, err := s.sess.login.Login(r.Context(), r.PostFormValue("token"))
	var le *auth.LoginError
	switch {
	case errors.As(err, &le):
		s.renderLogin(w, r, http.StatusUnauthorized, le.Error())
		return
	case err != nil:
		s.log.Error("login", "error", err)
		s.renderLogin(w, r, http.StatusBadGateway, "could not check the token: "+err.Error())
		return
	}
	sess, err := s.sess.sessions.Create(user, auth.ModeToken, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("token")), "Bearer ")), exp)
	if err != nil {
		s.renderLogin(w, r, http.StatusUnauthorized, err.Error())
		return
	}
	http.SetCookie(w, s.sess.sessions.Cookie(sess, r.TLS != nil))
	next := localPath(r.PostFormValue("next"))
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// localPath is p when it is a path on this UI ("/o/..."), "" otherwise,
// so that the login form's next field cannot send a visitor elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\\\r\n") || p == "/login" || strings.HasPrefix(p, "/login?") {
		return ""
	}
	return p
}

// logout ends the session (dropping its token) after the CSRF check.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	v := viewer(r)
	if !v.LoggedIn() {
		s.deny(w, r, http.StatusUnauthorized, "Log in", msgLogInToAct)
		return
	}
	if err := auth.CheckCSRF(r, v.Session); err != nil {
		s.deny(w, r, http.StatusForbidden, "Forbidden", err.Error())
		return
	}
	s.sess.sessions.Delete(v.Session.ID)
	http.SetCookie(w, s.sess.sessions.LogoutCookie(r.TLS != nil))
	to := "/login"
	if s.sess.mode == AuthLocal {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// deniedData is the body of a refusal page.
type deniedData struct{ Heading, Message string }

// deny answers with a page that says why, and changes nothing.
func (s *server) deny(w http.ResponseWriter, r *http.Request, code int, heading, msg string) {
	s.render(w, r, code, "denied", page{Title: heading, Body: deniedData{Heading: heading, Message: msg}})
}
