package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"golang.org/x/crypto/ssh"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

func TestCreateSecretGitKeyPairs(t *testing.T) {
	for _, tc := range []struct {
		algo, curve string
		bits        int
		wantType    string
		wantErr     string
	}{
		{algo: "ecdsa", curve: "p256", wantType: "ecdsa-sha2-nistp256"},
		{algo: "ecdsa", curve: "p384", wantType: "ecdsa-sha2-nistp384"},
		{algo: "ecdsa", curve: "p521", wantType: "ecdsa-sha2-nistp521"},
		{algo: "ed25519", wantType: "ssh-ed25519"},
		{algo: "rsa", bits: 2048, wantType: "ssh-rsa"},
		{algo: "rsa", bits: 512, wantErr: "--ssh-rsa-bits"},
		{algo: "ecdsa", curve: "p999", wantErr: "--ssh-ecdsa-curve"},
		{algo: "dsa", wantErr: "--ssh-key-algorithm"},
	} {
		t.Run(tc.algo+tc.curve+strconv.Itoa(tc.bits), func(t *testing.T) {
			pair, err := generateKeyPair(tc.algo, tc.bits, tc.curve)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			signer, err := ssh.ParsePrivateKey(pair.PrivateKey)
			if err != nil {
				t.Fatal(err)
			}
			pub, _, _, _, err := ssh.ParseAuthorizedKey(pair.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if pub.Type() != tc.wantType || string(pub.Marshal()) != string(signer.PublicKey().Marshal()) {
				t.Fatalf("public key %s does not match the private key (want type %s)", pair.PublicKey, tc.wantType)
			}
			loaded, err := loadKeyPair(pair.PrivateKey, "")
			if err != nil || string(loaded.PublicKey) != string(pair.PublicKey) {
				t.Fatalf("loadKeyPair: %v, %s", err, loaded.PublicKey)
			}
		})
	}
}

func TestCreateSecretGitScanHostKey(t *testing.T) {
	srv := gittest.NewSSHServer(t, t.TempDir(), gittest.SSHOptions{})
	got, err := scanHostKey(context.Background(), srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != srv.KnownHosts() {
		t.Fatalf("known_hosts\n got %s\nwant %s", got, srv.KnownHosts())
	}
	if line := knownHostsLine("github.com:22", srv.HostKey.PublicKey); !strings.HasPrefix(line, "github.com ssh-ed25519 ") {
		t.Fatalf("port 22 must be left out: %s", line)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := scanHostKey(ctx, srv.Addr(), nil); err == nil || !strings.Contains(err.Error(), "reachable") {
		t.Fatalf("want an unreachable error, got %v", err)
	}
}

// normaliseKeys replaces random key material and the server port.
func normaliseKeys(s string, port int) string {
	s = regexp.MustCompile(`(?s)-----BEGIN OPENSSH PRIVATE KEY-----.*?-----END OPENSSH PRIVATE KEY-----`).
		ReplaceAllString(s, "<PRIVATE KEY>")
	s = regexp.MustCompile(`(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa) AAAA[A-Za-z0-9+/=]+`).ReplaceAllString(s, "$1 <KEY>")
	return strings.ReplaceAll(s, strconv.Itoa(port), "<PORT>")
}

func TestCreateSecretGitExport(t *testing.T) {
	srv := gittest.NewSSHServer(t, t.TempDir(), gittest.SSHOptions{})
	ca := testCA
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"create/secret-git-ssh.yaml", []string{"podinfo-auth", "-n", "flux-system", "--url=" + srv.URL("podinfo")}},
		{"create/secret-git-ssh-password.yaml", []string{"podinfo-auth", "-n", "apps", "--url=" + srv.URL("podinfo"),
			"--ssh-key-algorithm=ed25519", "--password=s3cret", "--label=team=web"}},
		{"create/secret-git-basic.yaml", []string{"podinfo-auth", "-n", "flux-system", "--url=https://github.com/stefanprodan/podinfo",
			"-u", "git", "-p", "pass", "--ca-crt-file=" + ca}},
		{"create/secret-git-bearer.yaml", []string{"podinfo-auth", "-n", "flux-system", "--url=https://github.com/stefanprodan/podinfo",
			"--bearer-token=tok3n"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runFlux(t, "", append([]string{"create", "secret", "git", "--export"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			compareCLIGolden(t, tc.golden, normaliseKeys(out, srv.Port()))
		})
	}
}

func TestCreateSecretGitBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"x"}, "url is required"},
		{[]string{"x", "--url=ftp://h/r"}, `scheme "ftp" not supported`},
		{[]string{"x", "--url=https://h/r"}, "give --username and --password"},
		{[]string{"x", "--url=https://h/r", "-u", "git"}, "needs both --username and --password"},
		{[]string{"x", "--url=https://h/r", "-u", "git", "-p", "x", "--bearer-token=t"}, "cannot be combined"},
		{[]string{"x", "--url=https://h/r", "--ca-crt-file=/nonexistent"}, "read --ca-crt-file"},
		{[]string{"x", "--url=https://h/r", "--ca-crt-file=" + testClientKey}, "no PEM certificate found"},
		{[]string{"x", "--url=ssh://git@127.0.0.1:1/r", "--private-key-file=" + testCA}, "--private-key-file " + testCA + ": parse private key"},
		{[]string{"x", "--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=dsa"}, "unsupported --ssh-key-algorithm"},
		{[]string{"x", "--url=ssh://git@127.0.0.1:1/r", "--private-key-file=/nonexistent"}, "read --private-key-file"},
		{[]string{"x", "--url=ssh://git@127.0.0.1:1/r"}, "is the host reachable"},
		{[]string{"Bad_Name", "--url=https://h/r", "--bearer-token=t"}, `invalid name "Bad_Name"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runFlux(t, "", append([]string{"create", "secret", "git", "--export"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

// TestCreateSecretGitApply creates the secret in the cluster from an
// encrypted private key file, and checks the key pair and known_hosts.
func TestCreateSecretGitApply(t *testing.T) {
	ns := env.Namespace(t)
	srv := gittest.NewSSHServer(t, t.TempDir(), gittest.SSHOptions{})
	key := gittest.GenerateSSHKeyWith(t, gittest.SSHKeyOptions{Passphrase: "pw"})
	file := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(file, key.PrivateKey, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"create", "secret", "git", "repo-auth", "-n", ns, "--url=" + srv.URL("repo"), "--private-key-file=" + file}
	if _, _, err := runFlux(t, "", args...); err == nil || !strings.Contains(err.Error(), "--password") {
		t.Fatalf("an encrypted key without --password must fail, got %v", err)
	}
	_, stderr, err := runFlux(t, "", append(args, "--password=pw", "--label=team=web")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := "► deploy key: " + key.AuthorizedKey; !strings.Contains(stderr, want) {
		t.Fatalf("stderr %q does not show the deploy key %q", stderr, want)
	}
	if !strings.Contains(stderr, "git secret 'repo-auth' created in '"+ns+"' namespace") {
		t.Fatalf("stderr: %s", stderr)
	}
	var secret corev1.Secret
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "repo-auth"}, &secret); err != nil {
		t.Fatal(err)
	}
	if got := string(secret.Data["known_hosts"]); got != srv.KnownHosts() {
		t.Fatalf("known_hosts %q, want %q", got, srv.KnownHosts())
	}
	if string(secret.Data["identity"]) != string(key.PrivateKey) || string(secret.Data["password"]) != "pw" ||
		strings.TrimSpace(string(secret.Data["identity.pub"])) != key.AuthorizedKey || secret.Labels["team"] != "web" {
		t.Fatalf("unexpected secret: %v %v", secret.Labels, secret.Data)
	}
	// Running it again updates the same secret.
	if _, _, err := runFlux(t, "", "create", "secret", "git", "repo-auth", "-n", ns,
		"--url=https://h/r", "--bearer-token=t"); err != nil {
		t.Fatal(err)
	}
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "repo-auth"}, &secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["bearerToken"]) != "t" || secret.Data["identity"] != nil {
		t.Fatalf("the secret was not replaced: %v", secret.Data)
	}
}
