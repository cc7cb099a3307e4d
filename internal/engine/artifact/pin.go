package artifact

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// URLNotAllowedError is returned when an artifact URL, or a redirect, leads
// to a server that FetcherOptions.AllowedURLPrefixes does not list. It is
// final: retrying cannot help, the source's status must change.
type URLNotAllowedError struct {
	// URL is the refused address, credentials redacted.
	URL string
	// Host is its host[:port].
	Host string
	// Allowed are the allowed prefixes, normalised.
	Allowed []string
	// Redirect tells that a server redirected to URL.
	Redirect bool
}

func (e *URLNotAllowedError) Error() string {
	what := "artifact URL"
	if e.Redirect {
		what = "redirect to"
	}
	return fmt.Sprintf("%s %s: host %s is not an allowed artifact server (allowed: %s)",
		what, e.URL, e.Host, strings.Join(e.Allowed, ", "))
}

// errURLCredentials refuses user information in an artifact URL: Flux never
// puts any there, and it would be sent to whatever server the URL names.
var errURLCredentials = errors.New("credentials in artifact URLs are not allowed")

// allowedPrefix is one normalised entry of AllowedURLPrefixes.
type allowedPrefix struct {
	scheme, host, port string
	path               string // "" or "/a/b", without a trailing slash
}

func (p allowedPrefix) String() string {
	return p.scheme + "://" + joinHostPort(p.host, p.port) + p.path
}

// parseAllowedPrefixes normalises the allowed prefixes, which take the form
// of --storage-adv-addr.
func parseAllowedPrefixes(raw []string) ([]allowedPrefix, error) {
	var out []allowedPrefix
	for _, r := range raw {
		s := r
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("allowed artifact URL prefix %q: %w", r, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("allowed artifact URL prefix %q: scheme must be http or https", r)
		}
		if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("allowed artifact URL prefix %q: want host[:port] or http(s)://host[:port][/path]", r)
		}
		p := origin(u)
		if u.Path != "" {
			p.path = strings.TrimRight(path.Clean("/"+u.Path), "/")
		}
		out = append(out, p)
	}
	return out, nil
}

// origin is the normalised scheme, host and port of u: lower case, without
// the trailing dot of a fully qualified name, the port made explicit.
func origin(u *url.URL) allowedPrefix {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return allowedPrefix{scheme: scheme, host: strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), port: port}
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}

// allows tells whether u is on the prefix's server and under its path.
func (p allowedPrefix) allows(u *url.URL) bool {
	o := origin(u)
	if o.scheme != p.scheme || o.host != p.host || o.port != p.port {
		return false
	}
	if p.path == "" {
		return true
	}
	// The cleaned path, as the server resolves it: "/a/../b" is not under /a.
	return strings.HasPrefix(path.Clean("/"+u.Path)+"/", p.path+"/")
}

// checkURL refuses credentials in u, and, when the fetcher is pinned, a URL
// that no allowed prefix allows.
func (f *Fetcher) checkURL(u *url.URL) error {
	if u.User != nil {
		return fmt.Errorf("fetching %s: %w", u.Redacted(), errURLCredentials)
	}
	if len(f.allowed) == 0 {
		return nil
	}
	for _, p := range f.allowed {
		if p.allows(u) {
			return nil
		}
	}
	return f.notAllowed(u, false)
}

func (f *Fetcher) notAllowed(u *url.URL, redirect bool) *URLNotAllowedError {
	allowed := make([]string, len(f.allowed))
	for i, p := range f.allowed {
		allowed[i] = p.String()
	}
	return &URLNotAllowedError{URL: u.Redacted(), Host: u.Host, Allowed: allowed, Redirect: redirect}
}

// checkRedirect wraps the client's redirect policy: a redirect carries no
// credentials, and on a pinned fetcher it stays on an allowed server or on
// the one first asked (which differs from the allowed ones only under
// HostOverride). next, or the default policy when nil, then decides.
func (f *Fetcher) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		u := req.URL
		if u.User != nil {
			return fmt.Errorf("redirect to %s: %w", u.Redacted(), errURLCredentials)
		}
		if len(f.allowed) > 0 && origin(u) != origin(via[0].URL) && f.checkURL(u) != nil {
			return f.notAllowed(u, true)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// OnServer tells whether rawURL is on server, given as --storage-adv-addr
// takes it (host[:port] or an http(s) URL), and under its path. A URL or a
// server that does not parse is on no server.
func OnServer(rawURL, server string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	prefixes, err := parseAllowedPrefixes([]string{server})
	if err != nil {
		return false
	}
	return prefixes[0].allows(u)
}
