package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TokenReviewer creates TokenReviews; client-go's
// AuthenticationV1().TokenReviews() is one.
type TokenReviewer interface {
	Create(ctx context.Context, review *authenticationv1.TokenReview, opts metav1.CreateOptions) (*authenticationv1.TokenReview, error)
}

// LoginError is a token the API server refused, with the reason in words
// for the login page.
type LoginError struct {
	// ExpiredAt is the token's expiry when it has passed (read from a
	// JWT's exp), zero when the reason is otherwise.
	ExpiredAt time.Time
	msg       string
}

func (e *LoginError) Error() string { return e.msg }

// Messages of LoginError.
const (
	msgNoToken  = "no token given"
	msgRejected = "the API server does not accept this token"
)

// Authenticator checks bearer tokens with the API server.
type Authenticator struct {
	Reviews TokenReviewer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Login checks token with a TokenReview and returns its user, and the
// token's expiry when it is a JWT with a readable exp (zero otherwise),
// which should end the session. (A TokenReview of authentication/v1 says
// nothing of expiry, so the JWT's exp is the only bound besides the
// session's 8 h; an opaque token is checked again by the API server on
// every action the session makes.) A token the API server refuses gives a
// *LoginError; a failure to ask it gives another error.
func (a Authenticator) Login(ctx context.Context, token string) (User, time.Time, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	token = strings.TrimSpace(token)
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
	if token == "" {
		return User{}, time.Time{}, &LoginError{msg: msgNoToken}
	}
	exp, hasExp := jwtExpiry(token)
	review, err := a.Reviews.Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token},
	}, metav1.CreateOptions{})
	if err != nil {
		return User{}, time.Time{}, fmt.Errorf("checking the token with the API server: %w", err)
	}
	expired := hasExp && !now().Before(exp)
	if !review.Status.Authenticated || expired {
		if expired {
			return User{}, time.Time{}, &LoginError{ExpiredAt: exp,
				msg: "the token expired at " + exp.UTC().Format(time.RFC3339)}
		}
		return User{}, time.Time{}, &LoginError{msg: msgRejected}
	}
	info := review.Status.User
	u := User{Name: info.Username, UID: info.UID, Groups: info.Groups}
	if len(info.Extra) > 0 {
		u.Extra = make(map[string][]string, len(info.Extra))
		for k, v := range info.Extra {
			u.Extra[k] = []string(v)
		}
	}
	if u.Name == "" {
		return User{}, time.Time{}, &LoginError{msg: msgRejected}
	}
	if !hasExp {
		exp = time.Time{}
	}
	return u, exp, nil
}

// jwtExpiry reads the exp claim of a JWT without checking its signature:
// it only shortens a session the TokenReview accepted, or explains a
// refusal.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}

// DefaultOneTimeLifetime is how long a one-time token stays usable when
// NewOneTime is given no lifetime.
const DefaultOneTimeLifetime = 5 * time.Minute

// ErrOneTimeToken is the answer to a one-time token that is wrong, used
// already or too old; it does not say which.
var ErrOneTimeToken = errors.New("this link's one-time token is not valid (used already, expired or wrong): run flux ui again")

// OneTime is the one-time token `flux ui` prints in its URL, exchanged once
// for a session of the local user.
type OneTime struct {
	sessions *Sessions
	user     User
	now      func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewOneTime makes a one-time token for user, usable once within lifetime
// (0 is DefaultOneTimeLifetime), and returns it with the token to print.
func NewOneTime(sessions *Sessions, user User, lifetime time.Duration) (*OneTime, string, error) {
	if lifetime <= 0 {
		lifetime = DefaultOneTimeLifetime
	}
	token, err := randomToken()
	if err != nil {
		return nil, "", fmt.Errorf("creating the one-time token: %w", err)
	}
	o := &OneTime{sessions: sessions, user: user, now: sessions.now, token: token}
	o.expires = o.now().Add(lifetime)
	return o, token, nil
}

// Exchange trades the token for a new ModeLocal session; it works once.
func (o *OneTime) Exchange(token string) (Session, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token == "" || token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(o.token)) != 1 {
		return Session{}, ErrOneTimeToken
	}
	if !o.now().Before(o.expires) {
		o.token = ""
		return Session{}, ErrOneTimeToken
	}
	o.token = ""
	return o.sessions.Create(o.user, ModeLocal, "", time.Time{})
}
