package git

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// hashedHost builds an OpenSSH hashed host field (|1|salt|hash).
func hashedHost(host string) string {
	salt := []byte("0123456789abcdefghij")
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(host))
	return "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestParseKnownHostsErrors(t *testing.T) {
	key := gittest.GenerateSSHKey(t)
	tests := []struct {
		name, data, message string
	}{
		{name: "empty", data: "", message: "no host key entries"},
		{name: "only comments", data: "# nothing\n\n", message: "no host key entries"},
		{name: "host without key", data: "github.com\n", message: "line 1"},
		{name: "bad base64", data: "# c\ngithub.com ssh-ed25519 @@@\n", message: "line 2"},
		{name: "unknown key type", data: "github.com ssh-nope AAAA\n", message: "line 1"},
		{name: "malformed hashed host", data: "|1|abc " + key.AuthorizedKey, message: "malformed hashed host"},
		{name: "unknown hash format", data: "|2|a|b " + key.AuthorizedKey, message: "unsupported hashed host"},
		{name: "empty negation", data: "! " + key.AuthorizedKey, message: "empty host pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseKnownHosts([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want error containing %q", err, tt.message)
			}
		})
	}
}

func TestKnownHostsCallback(t *testing.T) {
	good := gittest.GenerateSSHKey(t)
	other := gittest.GenerateSSHKey(t)
	rsa := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Algorithm: "rsa"})
	tests := []struct {
		name   string
		hosts  string
		addr   string
		key    ssh.PublicKey
		wantOK bool
		algos  []string
	}{
		{name: "port 22 plain", hosts: "github.com " + good.AuthorizedKey, addr: "github.com:22", key: good.PublicKey, wantOK: true, algos: []string{"ssh-ed25519"}},
		{name: "case insensitive", hosts: "GitHub.com " + good.AuthorizedKey, addr: "github.COM:22", key: good.PublicKey, wantOK: true},
		{name: "other port needs brackets", hosts: "github.com " + good.AuthorizedKey, addr: "github.com:2222", key: good.PublicKey},
		{name: "bracketed port", hosts: "[git.example]:2222 " + good.AuthorizedKey, addr: "git.example:2222", key: good.PublicKey, wantOK: true},
		{name: "comma list", hosts: "a.example,b.example " + good.AuthorizedKey, addr: "b.example:22", key: good.PublicKey, wantOK: true},
		{name: "wildcard", hosts: "*.example.com " + good.AuthorizedKey, addr: "git.example.com:22", key: good.PublicKey, wantOK: true},
		{name: "question mark", hosts: "git?.example " + good.AuthorizedKey, addr: "git1.example:22", key: good.PublicKey, wantOK: true},
		{name: "negated", hosts: "*.example,!evil.example " + good.AuthorizedKey, addr: "evil.example:22", key: good.PublicKey},
		{name: "hashed", hosts: hashedHost("[127.0.0.1]:2222") + " " + good.AuthorizedKey, addr: "127.0.0.1:2222", key: good.PublicKey, wantOK: true},
		{name: "hashed other host", hosts: hashedHost("[127.0.0.1]:2222") + " " + good.AuthorizedKey, addr: "127.0.0.1:2223", key: good.PublicKey},
		{name: "mismatch", hosts: "h " + other.AuthorizedKey, addr: "h:22", key: good.PublicKey},
		{name: "second key matches", hosts: "h " + other.AuthorizedKey + "\nh " + good.AuthorizedKey, addr: "h:22", key: good.PublicKey,
			wantOK: true, algos: []string{"ssh-ed25519"}},
		{name: "revoked", hosts: "@revoked * " + good.AuthorizedKey + "\nh " + good.AuthorizedKey, addr: "h:22", key: good.PublicKey},
		{name: "rsa algorithms", hosts: "h " + rsa.AuthorizedKey, addr: "h:22", key: rsa.PublicKey, wantOK: true,
			algos: []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh, err := parseKnownHosts([]byte(tt.hosts))
			if err != nil {
				t.Fatal(err)
			}
			err = kh.callback(tt.addr, nil, tt.key)
			if tt.wantOK != (err == nil) {
				t.Fatalf("callback = %v, want ok=%v", err, tt.wantOK)
			}
			if err != nil && !errors.Is(err, ErrHostKeyVerification) {
				t.Fatalf("error %v is not ErrHostKeyVerification", err)
			}
			if tt.algos != nil && !reflect.DeepEqual(kh.algorithms(tt.addr), tt.algos) {
				t.Fatalf("algorithms = %v, want %v", kh.algorithms(tt.addr), tt.algos)
			}
		})
	}
}

func TestKnownHostsCertificateAuthority(t *testing.T) {
	ca := gittest.GenerateSSHKey(t)
	host := gittest.GenerateSSHKey(t)
	cert := &ssh.Certificate{Key: host.PublicKey, CertType: ssh.HostCert, ValidPrincipals: []string{"git.example"},
		ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca.Signer); err != nil {
		t.Fatal(err)
	}
	kh, err := parseKnownHosts([]byte("@cert-authority *.example " + ca.AuthorizedKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := kh.callback("git.example:22", nil, cert); err != nil {
		t.Fatalf("certified host rejected: %v", err)
	}
	if err := kh.callback("git.example:22", nil, host.PublicKey); !errors.Is(err, ErrHostKeyVerification) {
		t.Fatalf("bare key of a CA-only host accepted: %v", err)
	}
	if kh.algorithms("git.example:22") != nil {
		t.Fatal("algorithms should be the defaults for a CA-vouched host")
	}
	stranger := gittest.GenerateSSHKey(t)
	bad := &ssh.Certificate{Key: host.PublicKey, CertType: ssh.HostCert, ValidPrincipals: []string{"git.example"}, ValidBefore: ssh.CertTimeInfinity}
	if err := bad.SignCert(rand.Reader, stranger.Signer); err != nil {
		t.Fatal(err)
	}
	if err := kh.callback("git.example:22", nil, bad); !errors.Is(err, ErrHostKeyVerification) {
		t.Fatalf("certificate from an unknown CA accepted: %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		glob, s string
		want    bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abd", false},
		{"?", "", false}, {"a?c", "abc", true}, {"[h]:22", "[h]:22", true}, {"[h]:2*", "[h]:2222", true}, {"abc", "ab", false},
	} {
		if got := globMatch(tt.glob, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.glob, tt.s, got)
		}
	}
}
