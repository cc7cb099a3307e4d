package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// clock is a settable clock for tests.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)} }

var alice = User{Name: "alice", Groups: []string{"devs"}}

func TestCookieAttributes(t *testing.T) {
	clk := newClock()
	s := NewSessions(SessionOptions{Now: clk.Now})
	sess, err := s.Create(alice, ModeToken, "tok", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tls := range []bool{false, true} {
		rec := httptest.NewRecorder()
		http.SetCookie(rec, s.Cookie(sess, tls))
		line := rec.Header().Get("Set-Cookie")
		for _, want := range []string{CookieName + "=" + sess.ID, "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=28800"} {
			if !strings.Contains(line, want) {
				t.Errorf("tls=%t: Set-Cookie %q lacks %q", tls, line, want)
			}
		}
		if got := strings.Contains(line, "Secure"); got != tls {
			t.Errorf("tls=%t: Set-Cookie %q: Secure is %t", tls, line, got)
		}
	}
	// The id is random and long: 256 bits, base64url.
	if len(sess.ID) < 43 {
		t.Errorf("session id %q is shorter than 256 bits", sess.ID)
	}
	other, _ := s.Create(alice, ModeToken, "tok", time.Time{})
	if other.ID == sess.ID || other.CSRF == sess.CSRF || sess.CSRF == sess.ID {
		t.Errorf("ids and CSRF tokens repeat: %q %q %q %q", sess.ID, other.ID, sess.CSRF, other.CSRF)
	}
	// The token is not in the cookie.
	if strings.Contains(s.Cookie(sess, true).String(), "tok") {
		t.Error("the cookie carries the token")
	}
	rec := httptest.NewRecorder()
	http.SetCookie(rec, s.LogoutCookie(true))
	if line := rec.Header().Get("Set-Cookie"); !strings.Contains(line, "Max-Age=0") {
		t.Errorf("logout cookie %q does not expire the session cookie", line)
	}
}

func TestSessionFromRequest(t *testing.T) {
	s := NewSessions(SessionOptions{})
	sess, err := s.Create(alice, ModeToken, "tok", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(s.Cookie(sess, false))
	got, ok := s.FromRequest(r)
	if !ok || got.User.Name != "alice" || got.Token() != "tok" {
		t.Fatalf("FromRequest = %+v, %t", got, ok)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: "guessed"})
	if _, ok := s.FromRequest(r); ok {
		t.Error("a guessed id found a session")
	}
	if _, ok := s.FromRequest(httptest.NewRequest("GET", "/", nil)); ok {
		t.Error("no cookie found a session")
	}
}

func TestSessionExpiry(t *testing.T) {
	clk := newClock()
	s := NewSessions(SessionOptions{Now: clk.Now})

	// At most 8 h.
	long, err := s.Create(alice, ModeToken, "tok", clk.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(8 * time.Hour); !long.Expires.Equal(want) {
		t.Errorf("a day-long token's session ends %s, want %s", long.Expires, want)
	}
	// Or until the token expires, when sooner.
	short, err := s.Create(alice, ModeToken, "tok2", clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(time.Hour); !short.Expires.Equal(want) {
		t.Errorf("an hour-long token's session ends %s, want %s", short.Expires, want)
	}
	if c := s.Cookie(short, false); c.MaxAge != 3600 {
		t.Errorf("cookie Max-Age %d, want 3600", c.MaxAge)
	}

	clk.Add(time.Hour - time.Second)
	if _, ok := s.Get(short.ID); !ok {
		t.Error("session gone a second before its token expires")
	}
	clk.Add(time.Second)
	if _, ok := s.Get(short.ID); ok {
		t.Error("session outlived its token")
	}
	if _, ok := s.Get(long.ID); !ok {
		t.Error("8 h session gone after 1 h")
	}
	clk.Add(7 * time.Hour)
	if _, ok := s.Get(long.ID); ok {
		t.Error("session outlived 8 h")
	}
	if n := s.Len(); n != 0 {
		t.Errorf("%d expired sessions still held", n)
	}

	// A token that has already expired makes no session.
	if _, err := s.Create(alice, ModeToken, "old", clk.Now().Add(-time.Minute)); err == nil || !strings.Contains(err.Error(), "expired at") {
		t.Errorf("Create with an expired token: %v", err)
	}
}

func TestLogoutDropsToken(t *testing.T) {
	s := NewSessions(SessionOptions{})
	sess, _ := s.Create(alice, ModeToken, "tok", time.Time{})
	s.mu.Lock()
	stored := s.byID[sess.ID].Value.(*Session)
	s.mu.Unlock()
	s.Delete(sess.ID)
	if _, ok := s.Get(sess.ID); ok {
		t.Error("session survives logout")
	}
	if stored.token != "" {
		t.Error("the stored session still holds the token after logout")
	}
}

func TestSessionEvictionBound(t *testing.T) {
	clk := newClock()
	s := NewSessions(SessionOptions{Now: clk.Now, Max: 3})
	var ids []string
	for i := range 10 {
		sess, err := s.Create(User{Name: "u"}, ModeToken, "tok", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
		clk.Add(time.Second)
		if n := s.Len(); n > 3 {
			t.Fatalf("after %d logins the store holds %d sessions, bound 3", i+1, n)
		}
	}
	for i, id := range ids {
		_, ok := s.Get(id)
		if want := i >= 7; ok != want {
			t.Errorf("session %d present %t, want %t (the oldest go first)", i, ok, want)
		}
	}

	// Expired sessions go before live ones are evicted.
	s = NewSessions(SessionOptions{Now: clk.Now, Max: 2})
	keep, _ := s.Create(alice, ModeToken, "tok", time.Time{})
	_, _ = s.Create(alice, ModeToken, "tok", clk.Now().Add(time.Minute))
	clk.Add(2 * time.Minute)
	if _, err := s.Create(alice, ModeToken, "tok", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(keep.ID); !ok {
		t.Error("a live session was evicted while an expired one could go")
	}
}

// TestExpiredSessionsAreSweptWithoutAStoreFull: an ended session's token
// leaves memory within a minute of any visit, not only when the store
// fills up or that session is looked up.
func TestExpiredSessionsAreSweptWithoutAStoreFull(t *testing.T) {
	c := newClock()
	s := NewSessions(SessionOptions{Now: c.Now})
	gone, err := s.Create(User{Name: "short"}, ModeToken, "short-lived-token", c.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.Create(User{Name: "long"}, ModeToken, "long-lived-token", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s.Get(kept.ID) // the first visit sweeps (nothing yet)
	c.Add(2 * time.Minute)
	if _, ok := s.Get(kept.ID); !ok {
		t.Fatal("the live session is gone")
	}
	if n := s.Len(); n != 1 {
		t.Errorf("%d sessions held after a visit two minutes on, want 1: the expired one (%s) stays with its token", n, gone.User.Name)
	}
}

// TestSessionCookieNamePerStore: a store with its own cookie name (flux ui,
// per port) sets and reads only that cookie, so two UIs on one host do not
// take each other's session cookie.
func TestSessionCookieNamePerStore(t *testing.T) {
	local := NewSessions(SessionOptions{CookieName: "driftless_ui_9080"})
	cluster := NewSessions(SessionOptions{})
	sess, err := local.Create(User{Name: "me"}, ModeLocal, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c := local.Cookie(sess, false)
	if c.Name != "driftless_ui_9080" || local.LogoutCookie(false).Name != "driftless_ui_9080" {
		t.Fatalf("cookie %q, logout cookie %q: want the store's own name", c.Name, local.LogoutCookie(false).Name)
	}
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9080/", nil)
	req.AddCookie(c)
	if _, ok := local.FromRequest(req); !ok || !local.HasCookie(req) {
		t.Error("the store does not read its own cookie")
	}
	if _, ok := cluster.FromRequest(req); ok || cluster.HasCookie(req) {
		t.Error("a store with the default name reads another store's cookie")
	}
}
