package auth

import (
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
)

// ErrAnonymousAction is the answer to an anonymous visitor who tries to act.
var ErrAnonymousAction = errors.New("log in to act")

// ConfigFor returns the rest.Config that acts as sess's user, never with
// the controller's identity:
//   - a token login (ModeToken) sends the session's bearer token, over a
//     copy of base stripped of every credential (only the address and CA
//     are kept), so nothing of base's identity can leak into the request;
//   - a proxied user (ModeProxy) is impersonated (Impersonate.UserName and
//     Groups) by base's identity, which needs the impersonate right the
//     install grants only in that mode;
//   - `flux ui`'s local session (ModeLocal) acts with base as it is: the
//     user's own kubeconfig.
func ConfigFor(base *rest.Config, sess Session) (*rest.Config, error) {
	if sess.User.Anonymous {
		return nil, ErrAnonymousAction
	}
	switch sess.Mode {
	case ModeToken:
		if sess.token == "" {
			return nil, fmt.Errorf("the session of %s has no token (logged out or expired)", sess.User.Name)
		}
		cfg := rest.AnonymousClientConfig(base)
		cfg.BearerToken = sess.token
		return cfg, nil
	case ModeProxy:
		if sess.User.Name == "" {
			return nil, fmt.Errorf("the proxied session names no user")
		}
		cfg := rest.CopyConfig(base)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: sess.User.Name, Groups: sess.User.Groups}
		return cfg, nil
	case ModeLocal:
		return rest.CopyConfig(base), nil
	default:
		return nil, fmt.Errorf("session of %s: unknown mode %d", sess.User.Name, sess.Mode)
	}
}
