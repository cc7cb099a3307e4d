package oci

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keys of the Secrets an OCIRepository names.
const (
	// DockerConfigJSONKey holds a docker config.json (kubernetes.io/dockerconfigjson).
	DockerConfigJSONKey = ".dockerconfigjson"
	// DockerConfigKey holds a legacy ~/.dockercfg (kubernetes.io/dockercfg).
	DockerConfigKey = ".dockercfg"
	// CAKey, CertKey and KeyKey hold PEM data for certSecretRef.
	CAKey   = "ca.crt"
	CertKey = "tls.crt"
	KeyKey  = "tls.key"
	// ProxyAddressKey, ProxyUsernameKey and ProxyPasswordKey are the keys
	// of proxySecretRef.
	ProxyAddressKey  = "address"
	ProxyUsernameKey = "username"
	ProxyPasswordKey = "password"
)

// dockerEntry is one registry's credentials in a docker config.
type dockerEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// keychainEntry is one parsed entry: the host (possibly "*.domain"), an
// optional path prefix and the credentials.
type keychainEntry struct {
	host, path string
	cfg        authn.AuthConfig
}

// dockerKeychain resolves credentials from parsed docker config entries.
type dockerKeychain struct{ entries []keychainEntry }

// KeychainFromDockerConfig reads the registry credentials of an image pull
// Secret's data: .dockerconfigjson ({"auths": {...}}) or, failing that, the
// legacy .dockercfg. Entries may be keyed by host, host/path prefix,
// *.domain wildcard or URL (https://index.docker.io/v1/); the most specific
// match wins. Errors name the key and the registry entry, never a value.
func KeychainFromDockerConfig(data map[string][]byte) (authn.Keychain, error) {
	var (
		key     string
		entries map[string]dockerEntry
	)
	switch {
	case data[DockerConfigJSONKey] != nil:
		key = DockerConfigJSONKey
		var cfg struct {
			Auths map[string]dockerEntry `json:"auths"`
		}
		if err := json.Unmarshal(data[key], &cfg); err != nil {
			return nil, fmt.Errorf("secret key %s is not a docker config.json: %s", key, jsonProblem(err))
		}
		if cfg.Auths == nil {
			return nil, fmt.Errorf(`secret key %s has no "auths" object`, key)
		}
		entries = cfg.Auths
	case data[DockerConfigKey] != nil:
		key = DockerConfigKey
		if err := json.Unmarshal(data[key], &entries); err != nil {
			return nil, fmt.Errorf("secret key %s is not a docker config: %s", key, jsonProblem(err))
		}
	default:
		return nil, fmt.Errorf("secret has neither %s nor %s", DockerConfigJSONKey, DockerConfigKey)
	}
	kc := &dockerKeychain{}
	for reg, e := range entries {
		cfg, err := e.authConfig()
		if err != nil {
			return nil, fmt.Errorf("secret key %s, registry %q: %w", key, reg, err)
		}
		host, path := registryKey(reg)
		if host == "" {
			return nil, fmt.Errorf("secret key %s: an entry has an empty registry name", key)
		}
		kc.entries = append(kc.entries, keychainEntry{host: host, path: path, cfg: cfg})
	}
	// Most specific first: exact hosts before wildcards, longer paths
	// first; then by name so the choice never depends on map order.
	sort.Slice(kc.entries, func(i, j int) bool {
		a, b := kc.entries[i], kc.entries[j]
		if wa, wb := strings.HasPrefix(a.host, "*."), strings.HasPrefix(b.host, "*."); wa != wb {
			return wb
		}
		if len(a.path) != len(b.path) {
			return len(a.path) > len(b.path)
		}
		return a.host+"/"+a.path < b.host+"/"+b.path
	})
	return kc, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("field %q has the wrong type (%s, want %s)", typ.Field, typ.Value, typ.Type)
	}
	return "invalid JSON"
}

func (e dockerEntry) authConfig() (authn.AuthConfig, error) {
	cfg := authn.AuthConfig{
		Username:      e.Username,
		Password:      e.Password,
		IdentityToken: e.IdentityToken,
		RegistryToken: e.RegistryToken,
	}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return cfg, errors.New(`field "auth" is not base64`)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return cfg, errors.New(`field "auth" is not base64 of username:password`)
		}
		if cfg.Username == "" && cfg.Password == "" {
			cfg.Username, cfg.Password = user, pass
		}
	}
	if cfg.Username == "" && cfg.Password == "" && cfg.IdentityToken == "" && cfg.RegistryToken == "" {
		return cfg, errors.New(`no credentials: none of "auth", "username"/"password", "identitytoken", "registrytoken"`)
	}
	return cfg, nil
}

// registryKey normalises a docker config key to a host and a path prefix.
func registryKey(reg string) (host, path string) {
	s := strings.ToLower(strings.TrimSpace(reg))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	host, path, _ = strings.Cut(s, "/")
	path = strings.Trim(path, "/")
	if dockerHub(host) {
		host = "index.docker.io"
		if path == "v1" || path == "v2" {
			path = ""
		}
	}
	return host, path
}

func dockerHub(host string) bool {
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

// Resolve returns the credentials of the most specific entry matching the
// resource, or authn.Anonymous.
func (k *dockerKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	host, _ := registryKey(res.RegistryStr())
	_, repoPath, _ := strings.Cut(strings.ToLower(res.String()), "/")
	for _, e := range k.entries {
		if !hostMatches(e.host, host) {
			continue
		}
		if e.path != "" && repoPath != e.path && !strings.HasPrefix(repoPath, e.path+"/") {
			continue
		}
		return authn.FromConfig(e.cfg), nil
	}
	return authn.Anonymous, nil
}

// hostMatches matches host against pattern, which may be "*.domain" (one
// label) as in kubelet's credential matching.
func hostMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok {
		return false
	}
	h, p, _ := strings.Cut(host, ":")
	s, sp, _ := strings.Cut(suffix, ":")
	label, rest, found := strings.Cut(h, ".")
	return found && label != "" && rest == s && p == sp
}

// TLSConfigFromSecret reads the TLS settings of a certSecretRef's data:
// ca.crt (PEM certificates trusted besides the system's) and a client
// certificate, tls.crt with tls.key, or neither. Errors name the key.
func TLSConfigFromSecret(data map[string][]byte) (*tls.Config, error) {
	ca, cert, key := data[CAKey], data[CertKey], data[KeyKey]
	if ca == nil && cert == nil && key == nil {
		return nil, fmt.Errorf("secret has none of %s, %s and %s", CAKey, CertKey, KeyKey)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case cert != nil && key == nil:
		return nil, fmt.Errorf("secret has %s but no %s: a client certificate needs both", CertKey, KeyKey)
	case key != nil && cert == nil:
		return nil, fmt.Errorf("secret has %s but no %s: a client certificate needs both", KeyKey, CertKey)
	case cert != nil:
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("secret keys %s and %s are not a PEM certificate and its private key: %w", CertKey, KeyKey, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if ca != nil {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("secret key %s holds no PEM certificate", CAKey)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// ProxyFromSecret reads a proxySecretRef's data: address (http://,
// https:// or socks5:// URL, required), and optionally username and
// password. Errors name the key, never a value.
func ProxyFromSecret(data map[string][]byte) (*url.URL, error) {
	addr := strings.TrimSpace(string(data[ProxyAddressKey]))
	if addr == "" {
		return nil, fmt.Errorf("secret has no %s", ProxyAddressKey)
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("secret key %s is not a URL with a scheme and a host, e.g. http://proxy.example:8080", ProxyAddressKey)
	}
	switch u.Scheme {
	case "http", "https", "socks5":
	default:
		return nil, fmt.Errorf("secret key %s: scheme %q is not supported (http, https or socks5)", ProxyAddressKey, u.Scheme)
	}
	user, hasUser := data[ProxyUsernameKey]
	pass, hasPass := data[ProxyPasswordKey]
	switch {
	case hasPass && !hasUser:
		return nil, fmt.Errorf("secret has %s but no %s", ProxyPasswordKey, ProxyUsernameKey)
	case hasUser && u.User != nil:
		return nil, fmt.Errorf("secret key %s already carries credentials: give them either there or in %s and %s", ProxyAddressKey, ProxyUsernameKey, ProxyPasswordKey)
	case hasUser && hasPass:
		u.User = url.UserPassword(string(user), string(pass))
	case hasUser:
		u.User = url.User(string(user))
	}
	return u, nil
}

// AuthFromCreds reads the CLI's --creds: "<username>:<password>" for basic
// credentials, or a single value without ':' sent as a registry token, as
// Flux does. The error never holds the value.
func AuthFromCreds(creds string) (authn.Authenticator, error) {
	if creds == "" {
		return nil, errors.New("--creds is empty: want <username>[:<password>]")
	}
	user, pass, ok := strings.Cut(creds, ":")
	if !ok {
		return authn.FromConfig(authn.AuthConfig{RegistryToken: creds}), nil
	}
	if user == "" {
		return nil, errors.New("--creds has no username before ':': want <username>[:<password>]")
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}), nil
}
