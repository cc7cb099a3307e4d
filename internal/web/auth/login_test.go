package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeReviews accepts the tokens in users and counts its calls.
type fakeReviews struct {
	users map[string]authenticationv1.UserInfo
	err   error
	calls int
}

func (f *fakeReviews) Create(_ context.Context, r *authenticationv1.TokenReview, _ metav1.CreateOptions) (*authenticationv1.TokenReview, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := r.DeepCopy()
	if u, ok := f.users[r.Spec.Token]; ok {
		out.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: u}
	} else {
		out.Status = authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}
	}
	return out, nil
}

// jwt is an unsigned token with the exp claim; only its payload is read.
func jwt(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(fmt.Sprintf(`{"sub":"x","exp":%d}`, exp.Unix()))) + ".c2ln"
}

func TestLogin(t *testing.T) {
	clk := newClock()
	valid := jwt(clk.Now().Add(time.Hour))
	expired := jwt(clk.Now().Add(-time.Hour))
	reviews := &fakeReviews{users: map[string]authenticationv1.UserInfo{
		valid:    {Username: "system:serviceaccount:apps:editor", UID: "u1", Groups: []string{"system:serviceaccounts"}},
		"opaque": {Username: "bob"},
	}}
	a := Authenticator{Reviews: reviews, Now: clk.Now}
	ctx := context.Background()

	u, exp, err := a.Login(ctx, "  Bearer "+valid+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "system:serviceaccount:apps:editor" || u.UID != "u1" || len(u.Groups) != 1 || u.Anonymous {
		t.Errorf("user %+v", u)
	}
	if !exp.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("expiry %s, want the JWT's exp", exp)
	}

	// A token that is no JWT has no expiry of its own: the session's 8 h bound it.
	if u, exp, err := a.Login(ctx, "opaque"); err != nil || u.Name != "bob" || !exp.IsZero() {
		t.Errorf("opaque token: %+v %s %v", u, exp, err)
	}

	var le *LoginError
	_, _, err = a.Login(ctx, expired)
	if !errors.As(err, &le) || err.Error() != "the token expired at 2026-12-07T09:00:00Z" || le.ExpiredAt.IsZero() {
		t.Errorf("expired token: %v", err)
	}
	_, _, err = a.Login(ctx, "garbage")
	if !errors.As(err, &le) || err.Error() != "the API server does not accept this token" {
		t.Errorf("garbage token: %v", err)
	}
	_, _, err = a.Login(ctx, jwt(clk.Now().Add(time.Hour))+"x") // unknown, not expired
	if !errors.As(err, &le) || err.Error() != "the API server does not accept this token" {
		t.Errorf("unknown unexpired JWT: %v", err)
	}
	_, _, err = a.Login(ctx, " ")
	if !errors.As(err, &le) || err.Error() != "no token given" {
		t.Errorf("empty token: %v", err)
	}

	reviews.err = errors.New("connection refused")
	_, _, err = a.Login(ctx, valid)
	if err == nil || errors.As(err, &le) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("API server down: %v (want an error that is not a LoginError)", err)
	}
}

func TestOneTimeToken(t *testing.T) {
	clk := newClock()
	s := NewSessions(SessionOptions{Now: clk.Now})
	local := User{Name: "kubeconfig user"}
	o, token, err := NewOneTime(s, local, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 43 {
		t.Errorf("one-time token %q is shorter than 256 bits", token)
	}
	if _, err := o.Exchange("wrong"); !errors.Is(err, ErrOneTimeToken) {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := o.Exchange(""); !errors.Is(err, ErrOneTimeToken) {
		t.Errorf("empty token: %v", err)
	}
	sess, err := o.Exchange(token)
	if err != nil {
		t.Fatalf("first use (after wrong guesses): %v", err)
	}
	if sess.Mode != ModeLocal || sess.User.Name != "kubeconfig user" || sess.Token() != "" {
		t.Errorf("session %+v", sess)
	}
	if _, ok := s.Get(sess.ID); !ok {
		t.Error("the exchanged session is not in the store")
	}
	if _, err := o.Exchange(token); !errors.Is(err, ErrOneTimeToken) {
		t.Errorf("second use: %v", err)
	}

	// Too late.
	o, token, err = NewOneTime(s, local, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if _, err := o.Exchange(token); !errors.Is(err, ErrOneTimeToken) {
		t.Errorf("use after its lifetime: %v", err)
	}
}
