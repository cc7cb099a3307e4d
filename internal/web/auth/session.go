package auth

import (
	"container/list"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// CookieName is the session cookie's name.
const CookieName = "driftless_session"

// Defaults of SessionOptions.
const (
	DefaultMaxAge      = 8 * time.Hour
	DefaultMaxSessions = 10000
)

// Mode is how a session was made, which says how its actions authenticate.
type Mode int

const (
	// ModeToken sessions came from a token login and act with that token.
	ModeToken Mode = iota + 1
	// ModeProxy sessions belong to a user an authenticating proxy named;
	// they act by impersonation.
	ModeProxy
	// ModeLocal sessions are `flux ui`'s, made from the one-time token;
	// they act with the kubeconfig's own credentials.
	ModeLocal
)

// Session is one logged-in visitor. It is a copy: changing it changes
// nothing in the store.
type Session struct {
	ID   string
	User User
	Mode Mode
	// CSRF is the synchronizer token every form and htmx request of this
	// session carries (see CheckCSRF).
	CSRF    string
	Created time.Time
	Expires time.Time

	token string
}

// Token is the bearer token of a ModeToken session, "" otherwise. It lives
// only in memory and is dropped at logout and expiry.
func (s Session) Token() string { return s.token }

// SessionOptions configure a Sessions store.
type SessionOptions struct {
	// MaxAge bounds every session; 0 is DefaultMaxAge (8 h).
	MaxAge time.Duration
	// Max bounds the number of sessions: past it the oldest is evicted,
	// so a flood of logins cannot grow memory without bound. 0 is
	// DefaultMaxSessions.
	Max int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// CookieName names the session cookie; "" is CookieName. Browsers
	// keep cookies per host, not per port: `flux ui` names its own after
	// its port, so that it and a port-forwarded in-cluster UI on the same
	// 127.0.0.1 do not log each other out.
	CookieName string
}

// Sessions is an in-memory session store, safe for concurrent use.
type Sessions struct {
	cookie string
	maxAge time.Duration
	max    int
	now    func() time.Time

	mu    sync.Mutex
	byID  map[string]*list.Element // of *Session
	order *list.List               // oldest first
	// swept is when expired sessions were last dropped: Get drops them
	// every sweepEvery, so that an ended session's bearer token does not
	// stay in memory until the store fills up.
	swept time.Time
}

// sweepEvery is how often Get drops every expired session.
const sweepEvery = time.Minute

// NewSessions returns an empty store.
func NewSessions(opts SessionOptions) *Sessions {
	s := &Sessions{cookie: opts.CookieName, maxAge: opts.MaxAge, max: opts.Max, now: opts.Now, byID: map[string]*list.Element{}, order: list.New()}
	if s.cookie == "" {
		s.cookie = CookieName
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxAge
	}
	if s.max <= 0 {
		s.max = DefaultMaxSessions
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Create starts a session for u. token is the bearer token of a ModeToken
// session ("" for the other modes); tokenExpires, when not zero, ends the
// session sooner than MaxAge (the token's own expiry).
func (s *Sessions) Create(u User, mode Mode, token string, tokenExpires time.Time) (Session, error) {
	id, err := randomToken()
	if err != nil {
		return Session{}, fmt.Errorf("creating a session id: %w", err)
	}
	csrf, err := randomToken()
	if err != nil {
		return Session{}, fmt.Errorf("creating a CSRF token: %w", err)
	}
	now := s.now()
	sess := &Session{ID: id, User: u, Mode: mode, CSRF: csrf, Created: now, Expires: now.Add(s.maxAge), token: token}
	if !tokenExpires.IsZero() && tokenExpires.Before(sess.Expires) {
		sess.Expires = tokenExpires
	}
	if !sess.Expires.After(now) {
		return Session{}, fmt.Errorf("the token expired at %s", tokenExpires.UTC().Format(time.RFC3339))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.order.Len() >= s.max {
		s.sweepLocked(now)
	}
	for s.order.Len() >= s.max {
		s.removeLocked(s.order.Front())
	}
	s.byID[id] = s.order.PushBack(sess)
	return *sess, nil
}

// Get returns the live session with the id; an expired one is removed and
// reported as absent.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := s.now(); now.Sub(s.swept) >= sweepEvery {
		s.sweepLocked(now)
		s.swept = now
	}
	e, ok := s.byID[id]
	if !ok {
		return Session{}, false
	}
	sess := e.Value.(*Session)
	if !s.now().Before(sess.Expires) {
		s.removeLocked(e)
		return Session{}, false
	}
	return *sess, true
}

// FromRequest is the live session named by r's cookie.
func (s *Sessions) FromRequest(r *http.Request) (Session, bool) {
	c, err := r.Cookie(s.cookie)
	if err != nil || c.Value == "" {
		return Session{}, false
	}
	return s.Get(c.Value)
}

// Delete ends the session (logout), dropping its token.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byID[id]; ok {
		s.removeLocked(e)
	}
}

// Len is the number of sessions held, expired ones not yet swept included.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}

// Sweep removes every expired session; Get does every minute, and Create
// when the store is full.
func (s *Sessions) Sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
}

func (s *Sessions) sweepLocked(now time.Time) {
	for e := s.order.Front(); e != nil; {
		next := e.Next()
		if !now.Before(e.Value.(*Session).Expires) {
			s.removeLocked(e)
		}
		e = next
	}
}

func (s *Sessions) removeLocked(e *list.Element) {
	sess := e.Value.(*Session)
	sess.token = "" // drop the credential even if something still points here
	delete(s.byID, sess.ID)
	s.order.Remove(e)
}

// Cookie is the cookie that carries sess: HttpOnly, SameSite=Strict, Path
// /, Secure when the UI is served over TLS, ending with the session.
func (s *Sessions) Cookie(sess Session, tls bool) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookie,
		Value:    sess.ID,
		Path:     "/",
		Expires:  sess.Expires.UTC(),
		MaxAge:   max(1, int(sess.Expires.Sub(s.now()).Seconds())),
		HttpOnly: true,
		Secure:   tls,
		SameSite: http.SameSiteStrictMode,
	}
}

// HasCookie tells whether r carries this store's session cookie, live or
// not.
func (s *Sessions) HasCookie(r *http.Request) bool {
	c, err := r.Cookie(s.cookie)
	return err == nil && c.Value != ""
}

// LogoutCookie is the cookie that makes a browser forget its session.
func (s *Sessions) LogoutCookie(tls bool) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   tls,
		SameSite: http.SameSiteStrictMode,
	}
}
