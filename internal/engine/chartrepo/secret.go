package chartrepo

import (
	"crypto/tls"
	"fmt"
	"maps"

	"github.com/driftless/driftless/internal/engine/oci"
)

// The keys of a secretRef's data.
const (
	UsernameKey = "username"
	PasswordKey = "password"
)

// TLSInSecretRefWarning is the deprecation warning given when TLS keys are
// found in secretRef.
const TLSInSecretRefWarning = "TLS keys (ca.crt, tls.crt, tls.key, or caFile, certFile, keyFile) in secretRef are deprecated: move them to a Secret named by certSecretRef"

// legacyTLSKeys are the names Flux's first HelmRepository API gave the TLS
// keys of secretRef (caFile, certFile, keyFile), which Secrets written for
// it still use, mapped to today's.
var legacyTLSKeys = map[string]string{"caFile": oci.CAKey, "certFile": oci.CertKey, "keyFile": oci.KeyKey}

// SecretOptions reads a secretRef's data: username and password (basic
// auth, both or neither) and, deprecated but still honoured with a
// warning, ca.crt, tls.crt and tls.key (or their first names caFile,
// certFile and keyFile). Errors name the key, never a
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
	data = withLegacyTLSKeys(data)
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

// withLegacyTLSKeys returns data with the legacy TLS keys (caFile,
// certFile, keyFile) under today's names, unless today's are there too.
func withLegacyTLSKeys(data map[string][]byte) map[string][]byte {
	out, copied := data, false
	for legacy, key := range legacyTLSKeys {
		v, ok := data[legacy]
		if _, modern := data[key]; !ok || modern {
			continue
		}
		if !copied { // the caller's map is not ours to change
			out, copied = maps.Clone(data), true
		}
		out[key] = v
	}
	return out
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
