package git

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"golang.org/x/crypto/ssh"
)

// knownHosts is a parsed known_hosts file held in memory.
type knownHosts struct {
	entries []knownHostsEntry
}

type knownHostsEntry struct {
	line     int
	marker   string // "", "cert-authority" or "revoked"
	patterns []hostPattern
	key      ssh.PublicKey
}

// hostPattern is one comma-separated host field: a glob with * and ?, or a
// hashed name (|1|salt|hash), possibly negated with !.
type hostPattern struct {
	negate     bool
	glob       string
	salt, hash []byte
}

// parseKnownHosts parses every line strictly: one bad entry fails the whole
// file, naming the line.
func parseKnownHosts(data []byte) (*knownHosts, error) {
	kh := &knownHosts{}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := bytes.TrimSpace(raw)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		entry := knownHostsEntry{line: i + 1, marker: marker, key: key}
		for _, h := range hosts {
			p, err := parseHostPattern(h)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			entry.patterns = append(entry.patterns, p)
		}
		if len(entry.patterns) == 0 {
			return nil, fmt.Errorf("line %d: no host pattern", i+1)
		}
		kh.entries = append(kh.entries, entry)
	}
	if len(kh.entries) == 0 {
		return nil, errors.New("no host key entries")
	}
	return kh, nil
}

func parseHostPattern(h string) (hostPattern, error) {
	p := hostPattern{}
	if rest, ok := strings.CutPrefix(h, "!"); ok {
		p.negate, h = true, rest
	}
	if h == "" {
		return p, errors.New("empty host pattern")
	}
	if rest, ok := strings.CutPrefix(h, "|1|"); ok {
		salt64, hash64, ok := strings.Cut(rest, "|")
		salt, err1 := base64.StdEncoding.DecodeString(salt64)
		hash, err2 := base64.StdEncoding.DecodeString(hash64)
		if !ok || err1 != nil || err2 != nil || len(hash) != sha1.Size {
			return p, fmt.Errorf("malformed hashed host %q", h)
		}
		p.salt, p.hash = salt, hash
		return p, nil
	}
	if strings.HasPrefix(h, "|") {
		return p, fmt.Errorf("unsupported hashed host format %q", h)
	}
	p.glob = strings.ToLower(h)
	return p, nil
}

func (p hostPattern) match(host string) bool {
	if p.hash != nil {
		mac := hmac.New(sha1.New, p.salt)
		mac.Write([]byte(host))
		return hmac.Equal(mac.Sum(nil), p.hash)
	}
	return globMatch(p.glob, host)
}

// globMatch matches OpenSSH host globs: * any run, ? any one character.
func globMatch(glob, s string) bool {
	for len(glob) > 0 {
		switch glob[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(glob[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != glob[0] {
				return false
			}
		}
		glob, s = glob[1:], s[1:]
	}
	return s == ""
}

// matches reports whether the entry applies to host (already normalised):
// some pattern matches and no negated pattern does.
func (e knownHostsEntry) matches(host string) bool {
	matched := false
	for _, p := range e.patterns {
		if p.match(host) {
			if p.negate {
				return false
			}
			matched = true
		}
	}
	return matched
}

// normalizeHost turns host:port into the form known_hosts uses: "host"
// for port 22, "[host]:port" otherwise.
func normalizeHost(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "22"
	}
	host = strings.ToLower(host)
	if port == "22" {
		return host
	}
	return "[" + host + "]:" + port
}

// hostPort is the host:port go-git dials for an ssh URL.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "22"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func keyEqual(a, b ssh.PublicKey) bool {
	return bytes.Equal(a.Marshal(), b.Marshal())
}

// callback is the ssh.HostKeyCallback: the key must be listed for the host
// (or certified by a listed @cert-authority) and not @revoked.
func (kh *knownHosts) callback(hostname string, remote net.Addr, key ssh.PublicKey) error {
	host := normalizeHost(hostname)
	for _, e := range kh.entries {
		if e.marker == "revoked" && e.matches(host) && keyEqual(e.key, key) {
			return fmt.Errorf("%w: the key of %s is marked @revoked in known_hosts line %d", ErrHostKeyVerification, host, e.line)
		}
	}
	if _, isCert := key.(*ssh.Certificate); isCert {
		checker := &ssh.CertChecker{IsHostAuthority: func(auth ssh.PublicKey, _ string) bool {
			for _, e := range kh.entries {
				if e.marker == "cert-authority" && e.matches(host) && keyEqual(e.key, auth) {
					return true
				}
			}
			return false
		}}
		if err := checker.CheckHostKey(hostname, remote, key); err != nil {
			return fmt.Errorf("%w: host certificate of %s: %w", ErrHostKeyVerification, host, err)
		}
		return nil
	}
	known := false
	for _, e := range kh.entries {
		if e.marker != "" || !e.matches(host) {
			continue
		}
		known = true
		if keyEqual(e.key, key) {
			return nil
		}
	}
	if known {
		return fmt.Errorf("%w: the %s key of %s (%s) does not match its known_hosts entries: the host key changed or known_hosts is wrong",
			ErrHostKeyVerification, key.Type(), host, ssh.FingerprintSHA256(key))
	}
	return fmt.Errorf("%w: known_hosts has no entry for %s (the server offers %s %s)",
		ErrHostKeyVerification, host, key.Type(), ssh.FingerprintSHA256(key))
}

// algorithms lists the host key algorithms to offer for hostport, from the
// keys known_hosts holds for it, so the server presents a key we can check.
// It returns nil (library defaults) when the host has no plain entries or
// is vouched for by a certificate authority.
func (kh *knownHosts) algorithms(hostport string) []string {
	host := normalizeHost(hostport)
	var algos []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				algos = append(algos, x)
			}
		}
	}
	for _, e := range kh.entries {
		if !e.matches(host) {
			continue
		}
		switch e.marker {
		case "cert-authority":
			return nil
		case "revoked":
			continue
		}
		if e.key.Type() == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
			continue
		}
		add(e.key.Type())
	}
	return algos
}
