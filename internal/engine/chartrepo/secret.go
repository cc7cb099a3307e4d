package chartrepo

import (
	"crypto/tls"
	"fmt"

	"github.com/driftless/driftless/internal/engine/oci"
)

// The keys of a secretRef's data.
const (
	UsernameKey = "username"
	PasswordKey = "password"
)

// TLSInSecretRefWarning is the deprecation warning given when TLS keys are
// found in secretRef.
const TLSInSecretRefWarning = "TLS keys (ca.crt, tls.crt, tls.key) in secretRef are deprecated: move them to a Secret named by certSecretRef"

// SecretOptions reads a secretRef's data: username and password (basic
// auth, both or neither) and, deprecated but still honoured with a
// warning, ca.crt, tls.crt and tls.key. Errors name the key, never a
// value. The returned Options carry only the credentials and TLS; the
// caller sets the rest.
func SecretOptions(data map[string][]byte) (Options, []string, error) {
	var opts Options
	var warnings []string
	user, hasUser := data[UsernameKey]
	pass, hasPass := data[PasswordKey]
	switch {
	case hasUser && !hasPass:
		return Options{}, nil, &Error{Kind: ErrInvalidSecret, Detail: fmt.Sprintf("secretRef has %s but no %s", UsernameKey, PasswordKey)}
	case hasPass && !hasUser:
		return Options{}, nil, &Error{Kind: ErrInvalidSecret, Detail: fmt.Sprintf("secretRef has %s but no %s", PasswordKey, UsernameKey)}
	}
	opts.Username, opts.Password = string(user), string(pass)
	_, ca := data[oci.CAKey]
	_, cert := data[oci.CertKey]
	_, key := data[oci.KeyKey]
	if ca || cert || key {
		cfg, err := oci.TLSConfigFromSecret(data)
		if err != nil {
			return Options{}, nil, &Error{Kind: ErrInvalidSecret, Detail: "secretRef", Err: err}
		}
		opts.TLS = cfg
		warnings = append(warnings, TLSInSecretRefWarning)
	}
	if !hasUser && opts.TLS == nil {
		return Options{}, nil, &Error{Kind: ErrInvalidSecret,
			Detail: fmt.Sprintf("secretRef has none of %s, %s, %s, %s and %s", UsernameKey, PasswordKey, oci.CAKey, oci.CertKey, oci.KeyKey)}
	}
	return opts, warnings, nil
}

// TLSFromCertSecret reads a certSecretRef's data (ca.crt, tls.crt with
// tls.key) with internal/engine/oci's TLSConfigFromSecret; errors name
// the key, never a value.
func TLSFromCertSecret(data map[string][]byte) (*tls.Config, error) {
	cfg, err := oci.TLSConfigFromSecret(data)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidSecret, Detail: "certSecretRef", Err: err}
	}
	return cfg, nil
}
