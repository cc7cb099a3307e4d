package provider

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
	"github.com/driftless/driftless/internal/engine/notifier"
)

// MaxAddressLength bounds an address, from the spec or a Secret.
const MaxAddressLength = 2048

// Secret keys a Provider reads.
const (
	AddressKey  = "address"
	TokenKey    = "token"
	UsernameKey = "username"
	PasswordKey = "password"
	HeadersKey  = "headers"
	ProxyKey    = "proxy" // deprecated: proxySecretRef
	CACertKey   = "ca.crt"
	TLSCertKey  = "tls.crt"
	TLSKeyKey   = "tls.key"
)

// addressNotURL are the types whose address is not a URL: the Google
// Cloud project of googlepubsub, the connection string or hub of
// azureeventhub.
var addressNotURL = []string{"googlepubsub", "azureeventhub"}

// cloudIdentityTypes fall back to the cloud's identity (Google's
// application default credentials, Azure's workload identity) when their
// Secret has no token: not supported yet, as GitRepository's provider.
var cloudIdentityTypes = []string{"googlepubsub", "azuredevops"}

// settings resolves the Provider's settings: spec fields overridden by
// its Secret's keys, as Flux does.
func (r *Resolver) settings(alert *v1beta3.Alert, p *v1beta3.Provider, sec providerSecrets) (notifier.Settings, error) {
	where := fmt.Sprintf("Provider %s/%s", p.Namespace, p.Name)
	s := notifier.Settings{
		Type:        p.Spec.Type,
		Address:     p.Spec.Address,
		Channel:     p.Spec.Channel,
		Username:    p.Spec.Username,
		ProviderUID: string(p.UID),
	}
	addressField := "spec.address"
	proxy, proxyField := p.Spec.Proxy, "spec.proxy"
	if sec.secret != nil {
		data := sec.secret.Data
		in := fmt.Sprintf("spec.secretRef (Secret %s/%s)", p.Namespace, sec.secret.Name)
		if v, ok := data[AddressKey]; ok {
			s.Address, s.AddressFromSecret = strings.TrimSpace(string(v)), true
			addressField = in + " key " + AddressKey
		}
		s.Token = strings.TrimSpace(string(data[TokenKey]))
		if v, ok := data[UsernameKey]; ok {
			s.Username = string(v)
		}
		s.Password = string(data[PasswordKey])
		if v, ok := data[HeadersKey]; ok {
			headers, err := parseHeaders(v)
			if err != nil {
				return s, fmt.Errorf("%s: %s key %s: %w", where, in, HeadersKey, err)
			}
			s.Headers = headers
		}
		if v, ok := data[ProxyKey]; ok {
			proxy, proxyField = strings.TrimSpace(string(v)), in+" key "+ProxyKey
		}
		s.Secret = maps.Clone(data)
	}
	if slices.Contains(cloudIdentityTypes, s.Type) && s.Token == "" {
		return s, fmt.Errorf("%s: type %s without spec.secretRef key %s would use the cloud's workload identity, which is not supported yet; set the token",
			where, s.Type, TokenKey)
	}
	if err := checkAddress(s.Type, s.Address); err != nil {
		return s, fmt.Errorf("%s: %s: %w", where, addressField, err)
	}
	var px *proxySettings
	if sec.proxy != nil {
		var err error
		if px, err = proxyFromSecret(sec.proxy); err != nil {
			return s, fmt.Errorf("%s: spec.proxySecretRef (Secret %s/%s) %w", where, p.Namespace, sec.proxy.Name, err)
		}
	} else if proxy != "" {
		u, err := checkProxy(proxy)
		if err != nil {
			return s, fmt.Errorf("%s: %s: %w", where, proxyField, err)
		}
		px = &proxySettings{url: u}
	}
	tlsConfig, err := tlsFromSecret(sec.cert)
	if err != nil {
		return s, fmt.Errorf("%s: spec.certSecretRef (Secret %s/%s) %w", where, p.Namespace, sec.cert.Name, err)
	}
	s.Client = httpClient(p.GetTimeout(), px, tlsConfig)
	if p.Spec.CommitStatusExpr != "" {
		expr, err := r.compiled(p)
		if err != nil {
			return s, fmt.Errorf("%s: spec.commitStatusExpr: %w", where, err)
		}
		vars, err := objectVars(alert, p)
		if err != nil {
			return s, fmt.Errorf("%s: %w", where, err)
		}
		s.CommitStatus = func(e eventv1.Event) (string, error) { return expr.eval(e, vars) }
	}
	return s, nil
}

// checkAddress refuses an address that is too long or, for the types that
// send to a URL, not an absolute URL with a host. The value is never
// quoted: it may be a credential.
func checkAddress(typ, address string) error {
	if len(address) > MaxAddressLength {
		return fmt.Errorf("the address is longer than %d bytes", MaxAddressLength)
	}
	if address == "" || slices.Contains(addressNotURL, typ) {
		return nil
	}
	u, err := url.Parse(address)
	if err != nil {
		return fmt.Errorf("the address is not a URL")
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("the address is not an absolute URL with a host (such as https://hooks.example.com/...)")
	}
	return nil
}

// parseHeaders reads the headers key: a YAML map of header names to values.
func parseHeaders(data []byte) (map[string]string, error) {
	var headers map[string]string
	if err := yaml.Unmarshal(data, &headers); err != nil {
		return nil, fmt.Errorf("not a YAML map of header names to string values")
	}
	for name := range headers {
		if name == "" || strings.ContainsAny(name, " :\r\n\t") {
			return nil, fmt.Errorf("header name %q is not a valid header name", name)
		}
	}
	for name, value := range headers {
		if strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("the value of header %q holds a line break", name)
		}
	}
	return headers, nil
}

// secretValue reads key of s, refusing an empty one.
func secretValue(s *corev1.Secret, key string) (string, bool) {
	v, ok := s.Data[key]
	return strings.TrimSpace(string(v)), ok && len(v) > 0
}
